using System.Globalization;
using System.Text;
using System.Text.Json;
using CsCheck;
using ResponseEngine.Findings;
using ResponseEngine.Planning;
using ResponseEngine.Rules;
using ResponseEngine.TestKit;

namespace ResponseEngine.Cli.Tests.PlanRendering;

/// <summary>
/// <see cref="PlanJsonWriter"/> encodes property names, rule fields and the names of verdicts, severities, providers,
/// actions and guards once (#23): on generated decisions with hostile data in every field (and rules with hostile ids,
/// files with backslashes, commits or none, each mode), a plan's decisions are byte for byte those of the writer before
/// (<see cref="ReferencePlanJson"/>, which wrote each property from its string every time).
/// </summary>
public sealed class PlanJsonWriterEquivalenceTests
{
    private static readonly Gen<Decision> Decisions =
        Gen.Select(HostilePlanDataTests.OneDecision, Gen.Int[0, 2], Gen.OneOf("rules\\a.yaml", "rules/b.yaml", "r\"\u001b\u2028.yaml"), Gen.OneOf<string?>(null, "abc123", "<x>"))
            .Select((decision, mode, file, commit) => decision with
            {
                Rule = decision.Rule with { Mode = (RuleMode)mode, Source = new RuleSource(file, "hash-" + file.Length, commit) },
            });

    [Fact]
    public void Decisions_HostileData_ByteForByteAsTheReference()
    {
        Decisions.Array[1, 12].Sample(decisions =>
        {
            var plan = new Plan(Build.Now, [.. decisions], decisions.Length, decisions.Length, 3, null);
            using var written = new MemoryStream();
            PlanJsonWriter.Write(plan, written, indented: false);
            var text = Encoding.UTF8.GetString(written.ToArray());
            var start = text.IndexOf("\"decisions\":", StringComparison.Ordinal) + "\"decisions\":".Length;
            var end = text.LastIndexOf(",\"findings\":", StringComparison.Ordinal);

            using var reference = new MemoryStream();
            using (var writer = new Utf8JsonWriter(reference))
            {
                writer.WriteStartArray();
                foreach (var decision in decisions) ReferencePlanJson.WriteDecision(writer, decision);
                writer.WriteEndArray();
            }

            text[start..end].Should().Be(Encoding.UTF8.GetString(reference.ToArray()));
        }, iter: 300);
    }
}

/// <summary>How <see cref="PlanJsonWriter"/> wrote a decision before it encoded names and rule fields once (session 7).</summary>
internal static class ReferencePlanJson
{
    public static void WriteDecision(Utf8JsonWriter writer, Decision decision)
    {
        writer.WriteStartObject();
        var finding = decision.Finding;
        writer.WriteStartObject("finding");
        writer.WriteString("id", finding.Id);
        writer.WriteString("source", finding.Source);
        writer.WriteString("type", finding.Type);
        writer.WriteString("severity", finding.Severity.Name());
        writer.WriteString("observed_at", finding.ObservedAt.ToString("yyyy-MM-ddTHH:mm:ssZ", CultureInfo.InvariantCulture));
        writer.WriteStartObject("subject");
        writer.WriteString("provider", finding.Subject.Provider.Name());
        WriteNullable(writer, "id", finding.Subject.Id);
        WriteNullable(writer, "name", finding.Subject.Name);
        writer.WriteEndObject();
        writer.WriteEndObject();

        var rule = decision.Rule;
        writer.WriteStartObject("rule");
        writer.WriteString("id", rule.Id);
        writer.WriteString("file", rule.Source.File.Replace('\\', '/'));
        writer.WriteString("content_hash", rule.Source.ContentHash);
        WriteNullable(writer, "git_commit", rule.Source.GitCommit);
        writer.WriteString("mode", rule.Mode.ToString().ToLowerInvariant());
        writer.WriteEndObject();

        if (decision.Identity is { } identity)
        {
            writer.WriteStartObject("identity");
            writer.WriteString("provider", identity.Provider.Name());
            writer.WriteString("id", identity.Id);
            writer.WriteString("name", identity.Name);
            WriteNullable(writer, "upn", identity.Upn);
            writer.WriteBoolean("enabled", identity.Enabled);
            writer.WriteBoolean("privileged", identity.Privileged);
            writer.WriteBoolean("guest", identity.Guest);
            writer.WriteEndObject();
        }
        else
        {
            writer.WriteNull("identity");
        }

        WriteNullable(writer, "action", decision.Action?.Name);
        writer.WritePropertyName("parameters");
        decision.Parameters.WriteTo(writer);
        writer.WriteBoolean("destructive", decision.Action?.Destructive ?? false);
        writer.WriteString("verdict", decision.Verdict.Name());
        WriteNullable(writer, "guard", decision.Guard);
        WriteNullable(writer, "reason", decision.Reason);
        WriteNullable(writer, "note", decision.Note);
        WriteNullable(writer, "counted_on_snapshot", decision.CountedOnSnapshot);
        if (decision.Person is { } person)
        {
            // The action's scope is the person's accounts: whose person, each account with the evidence, refused providers.
            writer.WriteStartObject("person");
            writer.WriteStartArray("accounts");
            foreach (var account in person.Accounts)
            {
                writer.WriteStartObject();
                writer.WriteString("provider", account.Provider.Name());
                writer.WriteString("id", account.Id);
                writer.WriteString("name", account.Display);
                WriteNullable(writer, "evidence", person.In(account.Provider) is { } link && link.Account == account ? link.Evidence : null);
                writer.WriteEndObject();
            }

            writer.WriteEndArray();
            writer.WriteStartArray("refused");
            foreach (var refusal in person.Refusals)
            {
                writer.WriteStartObject();
                writer.WriteString("provider", refusal.Provider.Name());
                writer.WriteString("reason", refusal.Reason);
                writer.WriteEndObject();
            }

            writer.WriteEndArray();
            writer.WriteEndObject();
        }

        writer.WriteEndObject();
    }

    private static void WriteNullable(Utf8JsonWriter writer, string name, string? value)
    {
        if (value is null) writer.WriteNull(name);
        else writer.WriteString(name, value);
    }
}
