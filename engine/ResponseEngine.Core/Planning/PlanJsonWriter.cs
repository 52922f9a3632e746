using System.Globalization;
using System.Text.Json;
using ResponseEngine.Findings;

namespace ResponseEngine.Planning;

/// <summary>
/// Writes a plan as JSON in the shape of schemas/plan.schema.json: what machines and CI gates read. Streamed: the header,
/// then each window's decisions as they are decided (flushed to the stream as it goes), then the counts and the summary,
/// which are only known at the end (so they follow the decisions).
/// </summary>
public sealed class PlanJsonWriter : IPlanSink, IDisposable
{
    public const int FormatVersion = 1;

    /// <summary>Written to the stream whenever this much is buffered.</summary>
    private const int FlushBytes = 1 << 16;

    private readonly Utf8JsonWriter _writer;
    private readonly SortedDictionary<string, int> _executedByAction = new(StringComparer.Ordinal);
    private readonly int[] _byVerdict = new int[Enum.GetValues<Verdict>().Length];
    private int _decisions;

    public PlanJsonWriter(Stream stream, bool indented = true)
    {
        _writer = new Utf8JsonWriter(stream, new JsonWriterOptions { Indented = indented });
    }

    /// <summary>A whole plan held in memory, at once.</summary>
    public static void Write(Plan plan, Stream stream, bool indented = true)
    {
        ArgumentNullException.ThrowIfNull(plan);
        using var writer = new PlanJsonWriter(stream, indented);
        writer.Begin(plan);
        writer.Write(plan.Decisions);
        writer.End(plan);
    }

    /// <summary>Decisions written so far.</summary>
    public int DecisionCount => _decisions;

    /// <summary>Decisions written so far by verdict, in the order of <see cref="Plan.CountByVerdict"/>.</summary>
    public IEnumerable<(Verdict Verdict, int Count)> CountByVerdict() => Enum.GetValues<Verdict>().Select(v => (v, _byVerdict[(int)v]));

    public void Begin(Plan header)
    {
        ArgumentNullException.ThrowIfNull(header);
        var writer = _writer;
        writer.WriteStartObject();
        writer.WriteNumber("plan_version", FormatVersion);
        writer.WriteString("created_at", header.CreatedAt.ToString("yyyy-MM-ddTHH:mm:ssZ", CultureInfo.InvariantCulture));
        writer.WriteStartObject("rules");
        writer.WriteNumber("count", header.RuleCount);
        WriteNullable(writer, "git_commit", header.RulesGitCommit);
        writer.WriteStartArray("uncommitted");
        foreach (var file in header.RulesUncommitted) writer.WriteStringValue(file);
        writer.WriteEndArray();
        WriteNullable(writer, "provenance", header.RulesProvenance);
        writer.WriteEndObject();
        WriteBasis(writer, header.Basis);
        writer.WriteStartArray("decisions");
    }

    public void Write(IReadOnlyList<Decision> decisions)
    {
        ArgumentNullException.ThrowIfNull(decisions);
        foreach (var decision in decisions)
        {
            WriteDecision(_writer, decision);
            _decisions++;
            _byVerdict[(int)decision.Verdict]++;
            if (decision.Verdict == Verdict.Execute) _executedByAction[decision.ActionName] = _executedByAction.GetValueOrDefault(decision.ActionName) + 1;
            if (_writer.BytesPending >= FlushBytes) _writer.Flush();
        }
    }

    /// <summary>Closes the plan with its counts (from <paramref name="plan"/>) and the summary of the decisions written.</summary>
    public void End(Plan plan)
    {
        ArgumentNullException.ThrowIfNull(plan);
        var writer = _writer;
        writer.WriteEndArray();
        writer.WriteStartObject("findings");
        writer.WriteNumber("total", plan.FindingCount);
        writer.WriteNumber("matched", plan.MatchedFindingCount);
        writer.WriteEndObject();

        writer.WriteStartObject("summary");
        writer.WriteNumber("decisions", _decisions);
        writer.WriteStartObject("by_verdict");
        foreach (var verdict in Enum.GetValues<Verdict>()) writer.WriteNumber(verdict.Name(), _byVerdict[(int)verdict]);
        writer.WriteEndObject();
        writer.WriteStartObject("by_action");
        foreach (var (action, count) in _executedByAction) writer.WriteNumber(action, count);
        writer.WriteEndObject();
        writer.WriteEndObject();
        writer.WriteEndObject();
        writer.Flush();
    }

    public void Dispose() => _writer.Dispose();

    private static void WriteDecision(Utf8JsonWriter writer, Decision decision)
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

    private static void WriteBasis(Utf8JsonWriter writer, PlanBasis? basis)
    {
        if (basis is null)
        {
            writer.WriteNull("basis");
            return;
        }

        writer.WriteStartObject("basis");
        writer.WriteString("text", basis.Text);
        WriteNullable(writer, "directory", basis.DirectorySource);
        WriteNullable(writer, "snapshot_taken_at", basis.SnapshotTakenAt?.ToString("yyyy-MM-ddTHH:mm:ssZ", CultureInfo.InvariantCulture));
        writer.WriteStartObject("history");
        writer.WriteBoolean("empty", basis.History.IsEmpty);
        WriteNullable(writer, "source", basis.History.Source);
        writer.WriteNumber("rows", basis.History.Rows);
        if (basis.History.HeadSequence is { } head) writer.WriteNumber("head_sequence", head);
        else writer.WriteNull("head_sequence");
        writer.WriteEndObject();
        writer.WriteBoolean("budgets", basis.Budgets);
        writer.WriteStartArray("guards");
        foreach (var guard in basis.Guards) writer.WriteStringValue(guard);
        writer.WriteEndArray();
        writer.WriteEndObject();
    }

    private static void WriteNullable(Utf8JsonWriter writer, string name, string? value)
    {
        if (value is null) writer.WriteNull(name);
        else writer.WriteString(name, value);
    }
}
