using ResponseEngine.Findings;
using ResponseEngine.Planning;

namespace ResponseEngine.Cli.Rendering;

/// <summary>The plan for a terminal: per identity, each decision on one line with its verdict, rule and reason.</summary>
internal static class PlanTextRenderer
{
    public static string SummaryLine(Plan plan) => SummaryLine(plan.Decisions.Length, plan.CountByVerdict());

    public static string SummaryLine(int decisions, IEnumerable<(Verdict Verdict, int Count)> byVerdict) =>
        $"{decisions} decisions (" + string.Join(", ", byVerdict.Select(v => $"{v.Verdict.Name()} {v.Count}")) + ")";

    public static void Render(Plan plan, TextWriter writer, bool color)
    {
        writer.WriteLine(TerminalText.Escape($"Plan (dry-run) at {plan.CreatedAt:yyyy-MM-dd HH:mm:ss}Z — {plan.FindingCount} findings, {plan.MatchedFindingCount} matched by {plan.RuleCount} rules" +
            (plan.RulesProvenance is { } provenance ? " " + provenance : "")));
        if (plan.Basis is { } basis) writer.WriteLine(TerminalText.Escape(char.ToUpperInvariant(basis.Text[0]) + basis.Text[1..] + "."));
        writer.WriteLine(SummaryLine(plan));
        writer.WriteLine();

        foreach (var target in plan.Decisions.GroupBy(d => (Provider: d.Identity?.Provider ?? d.Finding.Subject.Provider, Name: d.TargetDisplay))
                     .OrderBy(g => g.Key.Provider).ThenBy(g => g.Key.Name, StringComparer.OrdinalIgnoreCase))
        {
            var identity = target.First().Identity;
            var facts = identity is null ? "unresolved" : string.Join(", ", new[]
            {
                identity.Privileged ? "privileged" : null,
                identity.Guest ? "guest" : null,
                identity.Enabled ? null : "disabled",
            }.Where(f => f is not null));
            writer.WriteLine(TerminalText.Escape($"{target.Key.Name} ({target.Key.Provider.Name()}{(facts.Length > 0 ? ", " + facts : "")})"));
            if (target.Select(d => d.Person).FirstOrDefault(p => p is { Linked.Length: > 0 } || p is { Refusals.Length: > 0 }) is { } person)
            {
                // The person this account belongs to, as the linked actions saw it: each account with its evidence.
                writer.WriteLine(TerminalText.Escape($"  person of {person.Subject.Display} ({person.Subject.Provider.Name()}): {person.Describe()}"));
            }

            foreach (var decision in target)
            {
                var verdict = decision.Verdict.Name().PadRight(7);
                if (color) verdict = Paint(decision.Verdict, verdict);
                var action = decision.Parameters.IsEmpty || decision.Action is null
                    ? decision.ActionName
                    : $"{decision.ActionName} {decision.Parameters.Describe()}";
                var why = decision.Reason is null ? "" : $"  [{decision.Guard}] {decision.Reason}";
                var note = decision.Note is null ? "" : $"  ({decision.Note})";
                if (decision.CountedOnSnapshot is { } counted) note += $"  ({counted})";
                if (decision.Link is { } link) note += $"  (linked to {decision.Finding.Subject.Display} ({decision.Finding.Subject.Provider.Name()}) by {link.Evidence})";
                // Only the verdict's colour is ours; everything after it comes from data and is escaped as one piece.
                writer.WriteLine($"  {verdict} " + TerminalText.Escape($"{action,-52} {decision.Rule.Id}  ← {decision.Finding.Type}/{decision.Finding.Severity.Name()} {decision.Finding.Id}{why}{note}"));
            }
        }

        writer.WriteLine();
        var executed = plan.Decisions.Where(d => d.Verdict == Verdict.Execute).GroupBy(d => d.ActionName).OrderBy(g => g.Key, StringComparer.Ordinal).ToList();
        writer.WriteLine(executed.Count == 0
            ? "Would execute nothing."
            : "Would execute: " + TerminalText.Escape(string.Join(", ", executed.Select(g => $"{g.Key} ×{g.Count()}"))));
    }

    private static string Paint(Verdict verdict, string text) => verdict switch
    {
        Verdict.Execute => $"\u001b[32m{text}\u001b[0m",
        Verdict.Hold => $"\u001b[33m{text}\u001b[0m",
        Verdict.Error => $"\u001b[31m{text}\u001b[0m",
        _ => $"\u001b[90m{text}\u001b[0m",
    };
}
