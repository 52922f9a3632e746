using System.Globalization;
using ResponseEngine.Findings;
using ResponseEngine.Planning;

namespace ResponseEngine.Cli.Rendering;

/// <summary>
/// The plan for a terminal: per identity, each decision on one line with its verdict, rule and reason. Streamed: each
/// decision's line is rendered as it is decided and put in identity order by a <see cref="SortedSpill"/>; the summary
/// (counts) comes first, from <see cref="PlanTotals"/>. Identities are ordered by provider, then name without case, then
/// name ordinally (names equal but for case were ordered by first appearance before the plan streamed).
/// </summary>
internal sealed class PlanTextRenderer(bool color, long? spillBudget = null) : IPlanRenderer
{
    private readonly SortedSpill _spill = new(StringComparer.OrdinalIgnoreCase, spillBudget);

    /// <summary>Per identity shown, the first person line (the person its decisions' linked actions saw): bounded by the directory.</summary>
    private readonly Dictionary<(Provider, string), string> _persons = [];

    public PlanTotals Totals { get; } = new();

    public static string SummaryLine(Plan plan) => SummaryLine(plan.Decisions.Length, plan.CountByVerdict());

    public static string SummaryLine(int decisions, IEnumerable<(Verdict Verdict, int Count)> byVerdict) =>
        $"{decisions} decisions (" + string.Join(", ", byVerdict.Select(v => $"{v.Verdict.Name()} {v.Count}")) + ")";

    /// <summary>A plan held in memory.</summary>
    public static void Render(Plan plan, TextWriter writer, bool color)
    {
        ArgumentNullException.ThrowIfNull(writer);
        writer.Write(PlanRenderers.Render("text", plan, color));
    }

    public void Begin(Plan header)
    {
    }

    public void Write(IReadOnlyList<Decision> decisions)
    {
        ArgumentNullException.ThrowIfNull(decisions);
        foreach (var decision in decisions)
        {
            Totals.Add(decision);
            var provider = decision.Identity?.Provider ?? decision.Finding.Subject.Provider;
            var name = decision.TargetDisplay;
            var identity = decision.Identity;
            var facts = identity is null ? "unresolved" : string.Join(", ", new[]
            {
                identity.Privileged ? "privileged" : null,
                identity.Guest ? "guest" : null,
                identity.Enabled ? null : "disabled",
            }.Where(f => f is not null));
            if (decision.Person is { } person && (person.Linked.Length > 0 || person.Refusals.Length > 0))
            {
                // The person this account belongs to, as the linked actions saw it: each account with its evidence.
                _persons.TryAdd((provider, name), TerminalText.Escape($"  person of {person.Subject.Display} ({person.Subject.Provider.Name()}): {person.Describe()}"));
            }

            var action = decision.Parameters.IsEmpty || decision.Action is null
                ? decision.ActionName
                : $"{decision.ActionName} {decision.Parameters.Describe()}";
            var why = decision.Reason is null ? "" : $"  [{decision.Guard}] {decision.Reason}";
            var note = decision.Note is null ? "" : $"  ({decision.Note})";
            if (decision.CountedOnSnapshot is { } counted) note += $"  ({counted})";
            if (decision.Link is { } link) note += $"  (linked to {decision.Finding.Subject.Display} ({decision.Finding.Subject.Provider.Name()}) by {link.Evidence})";
            _spill.Add((int)provider, name,
                TerminalText.Escape($"{name} ({provider.Name()}{(facts.Length > 0 ? ", " + facts : "")})"),
                ((int)decision.Verdict).ToString(CultureInfo.InvariantCulture),
                TerminalText.Escape($"{action,-52} {decision.Rule.Id}  ← {decision.Finding.Type}/{decision.Finding.Severity.Name()} {decision.Finding.Id}{why}{note}"));
        }
    }

    public void WriteTo(Plan plan, TextWriter writer)
    {
        ArgumentNullException.ThrowIfNull(plan);
        ArgumentNullException.ThrowIfNull(writer);
        writer.WriteLine(TerminalText.Escape($"Plan (dry-run) at {plan.CreatedAt:yyyy-MM-dd HH:mm:ss}Z — {plan.FindingCount} findings, {plan.MatchedFindingCount} matched by {plan.RuleCount} rules" +
            (plan.RulesProvenance is { } provenance ? " " + provenance : "")));
        if (plan.Basis is { } basis) writer.WriteLine(TerminalText.Escape(char.ToUpperInvariant(basis.Text[0]) + basis.Text[1..] + "."));
        writer.WriteLine(Totals.SummaryLine());
        writer.WriteLine();

        SpillRecord? previous = null;
        foreach (var record in _spill.Drain())
        {
            if (previous is null || previous.Group != record.Group || !string.Equals(previous.Key, record.Key, StringComparison.Ordinal))
            {
                writer.WriteLine(record.Fields[0]);
                if (_persons.TryGetValue(((Provider)record.Group, record.Key), out var person)) writer.WriteLine(person);
            }

            var verdict = (Verdict)int.Parse(record.Fields[1]!, CultureInfo.InvariantCulture);
            var shown = verdict.Name().PadRight(7);
            if (color) shown = Paint(verdict, shown);
            // Only the verdict's colour is ours; everything after it comes from data and was escaped as one piece.
            writer.WriteLine($"  {shown} " + record.Fields[2]);
            previous = record;
        }

        writer.WriteLine();
        writer.WriteLine(Totals.ExecutedByAction.Count == 0
            ? "Would execute nothing."
            : "Would execute: " + TerminalText.Escape(string.Join(", ", Totals.ExecutedByAction.Select(g => $"{g.Key} ×{g.Value}"))));
    }

    public void Dispose() => _spill.Dispose();

    private static string Paint(Verdict verdict, string text) => verdict switch
    {
        Verdict.Execute => $"\u001b[32m{text}\u001b[0m",
        Verdict.Hold => $"\u001b[33m{text}\u001b[0m",
        Verdict.Error => $"\u001b[31m{text}\u001b[0m",
        _ => $"\u001b[90m{text}\u001b[0m",
    };
}
