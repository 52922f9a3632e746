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

    private const string TimeFormat = "yyyy-MM-ddTHH:mm:ssZ";

    /// <summary>Action and guard names kept encoded; more are encoded each time (a guard's name is one of a few).</summary>
    private const int KnownTexts = 64;

    private static readonly JsonEncodedText[] VerdictNames = Table<Verdict>(v => v.Name());
    private static readonly JsonEncodedText[] SeverityNames = Table<Severity>(s => s.Name());
    private static readonly JsonEncodedText[] ProviderNames = Table<Provider>(p => p.Name());

    private readonly Utf8JsonWriter _writer;
    private readonly SortedDictionary<string, int> _executedByAction = new(StringComparer.Ordinal);
    private readonly int[] _byVerdict = new int[Enum.GetValues<Verdict>().Length];
    private readonly Dictionary<Rules.Rule, EncodedRule> _rules = new(ReferenceEqualityComparer.Instance);
    private readonly List<(string Text, JsonEncodedText Encoded)> _texts = [];
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

    private void WriteDecision(Utf8JsonWriter writer, Decision decision)
    {
        writer.WriteStartObject();
        var finding = decision.Finding;
        writer.WriteStartObject(Names.Finding);
        writer.WriteString(Names.Id, finding.Id);
        writer.WriteString(Names.Source, finding.Source);
        writer.WriteString(Names.Type, finding.Type);
        writer.WriteString(Names.Severity, SeverityNames[(int)finding.Severity]);
        WriteTime(writer, Names.ObservedAt, finding.ObservedAt);
        writer.WriteStartObject(Names.Subject);
        writer.WriteString(Names.Provider, ProviderNames[(int)finding.Subject.Provider]);
        WriteNullable(writer, Names.Id, finding.Subject.Id);
        WriteNullable(writer, Names.Name, finding.Subject.Name);
        writer.WriteEndObject();
        writer.WriteEndObject();

        // A rule's fields are the same on each of its decisions: encoded once per rule.
        if (!_rules.TryGetValue(decision.Rule, out var rule)) _rules[decision.Rule] = rule = new EncodedRule(decision.Rule);
        writer.WriteStartObject(Names.Rule);
        writer.WriteString(Names.Id, rule.Id);
        writer.WriteString(Names.File, rule.File);
        writer.WriteString(Names.ContentHash, rule.ContentHash);
        if (rule.GitCommit is { } commit) writer.WriteString(Names.GitCommit, commit);
        else writer.WriteNull(Names.GitCommit);
        writer.WriteString(Names.Mode, rule.Mode);
        writer.WriteEndObject();

        if (decision.Identity is { } identity)
        {
            writer.WriteStartObject(Names.Identity);
            writer.WriteString(Names.Provider, ProviderNames[(int)identity.Provider]);
            writer.WriteString(Names.Id, identity.Id);
            writer.WriteString(Names.Name, identity.Name);
            WriteNullable(writer, Names.Upn, identity.Upn);
            writer.WriteBoolean(Names.Enabled, identity.Enabled);
            writer.WriteBoolean(Names.Privileged, identity.Privileged);
            writer.WriteBoolean(Names.Guest, identity.Guest);
            writer.WriteEndObject();
        }
        else
        {
            writer.WriteNull(Names.Identity);
        }

        if (decision.Action?.Name is { } action) writer.WriteString(Names.Action, Encoded(action));
        else writer.WriteNull(Names.Action);
        writer.WritePropertyName(Names.Parameters);
        decision.Parameters.WriteTo(writer);
        writer.WriteBoolean(Names.Destructive, decision.Action?.Destructive ?? false);
        writer.WriteString(Names.Verdict, VerdictNames[(int)decision.Verdict]);
        if (decision.Guard is { } guard) writer.WriteString(Names.Guard, Encoded(guard));
        else writer.WriteNull(Names.Guard);
        WriteNullable(writer, Names.Reason, decision.Reason);
        WriteNullable(writer, Names.Note, decision.Note);
        WriteNullable(writer, Names.CountedOnSnapshot, decision.CountedOnSnapshot);
        if (decision.Person is { } person)
        {
            // The action's scope is the person's accounts: whose person, each account with the evidence, refused providers.
            writer.WriteStartObject(Names.Person);
            writer.WriteStartArray(Names.Accounts);
            foreach (var account in person.Accounts)
            {
                writer.WriteStartObject();
                writer.WriteString(Names.Provider, ProviderNames[(int)account.Provider]);
                writer.WriteString(Names.Id, account.Id);
                writer.WriteString(Names.Name, account.Display);
                WriteNullable(writer, Names.Evidence, person.In(account.Provider) is { } link && link.Account == account ? link.Evidence : null);
                writer.WriteEndObject();
            }

            writer.WriteEndArray();
            writer.WriteStartArray(Names.Refused);
            foreach (var refusal in person.Refusals)
            {
                writer.WriteStartObject();
                writer.WriteString(Names.Provider, ProviderNames[(int)refusal.Provider]);
                writer.WriteString(Names.Reason, refusal.Reason);
                writer.WriteEndObject();
            }

            writer.WriteEndArray();
            writer.WriteEndObject();
        }

        writer.WriteEndObject();
    }

    /// <summary>The encoded form of an action's or a guard's name (a few, each the same string instance), encoded on first use.</summary>
    private JsonEncodedText Encoded(string text)
    {
        foreach (var (known, encoded) in _texts)
        {
            if (ReferenceEquals(known, text) || string.Equals(known, text, StringComparison.Ordinal)) return encoded;
        }

        var added = JsonEncodedText.Encode(text);
        if (_texts.Count < KnownTexts) _texts.Add((text, added));
        return added;
    }

    /// <summary>The names of an enum's values (0, 1, … in order), encoded, by value.</summary>
    private static JsonEncodedText[] Table<T>(Func<T, string> name)
        where T : struct, Enum
    {
        var values = Enum.GetValues<T>();
        var table = new JsonEncodedText[values.Length];
        foreach (var value in values) table[Convert.ToInt32(value, CultureInfo.InvariantCulture)] = JsonEncodedText.Encode(name(value));
        return table;
    }

    /// <summary>As <c>ToString("yyyy-MM-ddTHH:mm:ssZ", InvariantCulture)</c>, without the string.</summary>
    private static void WriteTime(Utf8JsonWriter writer, JsonEncodedText name, DateTimeOffset time)
    {
        Span<char> text = stackalloc char[32];
        if (time.TryFormat(text, out var written, TimeFormat, CultureInfo.InvariantCulture)) writer.WriteString(name, text[..written]);
        else writer.WriteString(name, time.ToString(TimeFormat, CultureInfo.InvariantCulture));
    }

    private static void WriteNullable(Utf8JsonWriter writer, JsonEncodedText name, string? value)
    {
        if (value is null) writer.WriteNull(name);
        else writer.WriteString(name, value);
    }

    /// <summary>A rule's fields as the plan writes them, encoded once.</summary>
    private sealed class EncodedRule(Rules.Rule rule)
    {
        public JsonEncodedText Id { get; } = JsonEncodedText.Encode(rule.Id);

        public JsonEncodedText File { get; } = JsonEncodedText.Encode(rule.Source.File.Replace('\\', '/'));

        public JsonEncodedText ContentHash { get; } = JsonEncodedText.Encode(rule.Source.ContentHash);

        public JsonEncodedText? GitCommit { get; } = rule.Source.GitCommit is { } commit ? JsonEncodedText.Encode(commit) : null;

        public JsonEncodedText Mode { get; } = JsonEncodedText.Encode(rule.Mode.ToString().ToLowerInvariant());
    }

    /// <summary>The property names of a decision, encoded once.</summary>
    private static class Names
    {
        public static readonly JsonEncodedText Finding = JsonEncodedText.Encode("finding");
        public static readonly JsonEncodedText Id = JsonEncodedText.Encode("id");
        public static readonly JsonEncodedText Source = JsonEncodedText.Encode("source");
        public static readonly JsonEncodedText Type = JsonEncodedText.Encode("type");
        public static readonly JsonEncodedText Severity = JsonEncodedText.Encode("severity");
        public static readonly JsonEncodedText ObservedAt = JsonEncodedText.Encode("observed_at");
        public static readonly JsonEncodedText Subject = JsonEncodedText.Encode("subject");
        public static readonly JsonEncodedText Provider = JsonEncodedText.Encode("provider");
        public static readonly JsonEncodedText Name = JsonEncodedText.Encode("name");
        public static readonly JsonEncodedText Rule = JsonEncodedText.Encode("rule");
        public static readonly JsonEncodedText File = JsonEncodedText.Encode("file");
        public static readonly JsonEncodedText ContentHash = JsonEncodedText.Encode("content_hash");
        public static readonly JsonEncodedText GitCommit = JsonEncodedText.Encode("git_commit");
        public static readonly JsonEncodedText Mode = JsonEncodedText.Encode("mode");
        public static readonly JsonEncodedText Identity = JsonEncodedText.Encode("identity");
        public static readonly JsonEncodedText Upn = JsonEncodedText.Encode("upn");
        public static readonly JsonEncodedText Enabled = JsonEncodedText.Encode("enabled");
        public static readonly JsonEncodedText Privileged = JsonEncodedText.Encode("privileged");
        public static readonly JsonEncodedText Guest = JsonEncodedText.Encode("guest");
        public static readonly JsonEncodedText Action = JsonEncodedText.Encode("action");
        public static readonly JsonEncodedText Parameters = JsonEncodedText.Encode("parameters");
        public static readonly JsonEncodedText Destructive = JsonEncodedText.Encode("destructive");
        public static readonly JsonEncodedText Verdict = JsonEncodedText.Encode("verdict");
        public static readonly JsonEncodedText Guard = JsonEncodedText.Encode("guard");
        public static readonly JsonEncodedText Reason = JsonEncodedText.Encode("reason");
        public static readonly JsonEncodedText Note = JsonEncodedText.Encode("note");
        public static readonly JsonEncodedText CountedOnSnapshot = JsonEncodedText.Encode("counted_on_snapshot");
        public static readonly JsonEncodedText Person = JsonEncodedText.Encode("person");
        public static readonly JsonEncodedText Accounts = JsonEncodedText.Encode("accounts");
        public static readonly JsonEncodedText Evidence = JsonEncodedText.Encode("evidence");
        public static readonly JsonEncodedText Refused = JsonEncodedText.Encode("refused");
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
