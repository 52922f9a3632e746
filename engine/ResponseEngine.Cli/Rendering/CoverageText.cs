using System.Collections.Immutable;
using System.Text.Json.Nodes;
using ResponseEngine.Policy.Testing;

namespace ResponseEngine.Cli.Rendering;

/// <summary>`respond test --coverage`: per rule, what its inline tests exercised and what they never reach.</summary>
internal static class CoverageText
{
    public static void Write(TextWriter writer, ImmutableArray<RuleCoverage> coverage)
    {
        writer.WriteLine();
        writer.WriteLine($"coverage by the inline tests ({coverage.Length} rule{(coverage.Length == 1 ? "" : "s")})");
        foreach (var rule in coverage)
        {
            writer.WriteLine();
            writer.WriteLine(TerminalText.Escape($"{rule.Rule.Id}  {rule.Rule.Source.File}  {rule.Tests} test{(rule.Tests == 1 ? "" : "s")}: {rule.Positive} expect actions, {rule.Negative} expect none"));
            if (rule.Conditions.IsEmpty)
            {
                writer.WriteLine("  condition: none (the match alone decides)");
            }
            else
            {
                writer.WriteLine($"  condition outcomes: {rule.OutcomesCovered} of {rule.OutcomesTotal}");
                var width = Math.Min(48, rule.Conditions.Max(c => c.Text.Length));
                foreach (var condition in rule.Conditions)
                {
                    var gap = condition.WhenTrue + condition.WhenFalse == 0 ? "  ← no test reaches it"
                        : condition.WhenFalse == 0 ? "  ← no test makes it false"
                        : condition.WhenTrue == 0 ? "  ← no test makes it true"
                        : "";
                    writer.WriteLine(TerminalText.Escape($"    {condition.Text.PadRight(width)}  true {condition.WhenTrue}, false {condition.WhenFalse}{gap}"));
                }
            }

            writer.WriteLine(TerminalText.Escape($"  types:   {Items(rule.Types)}"));
            writer.WriteLine(TerminalText.Escape($"  actions: {Items(rule.Actions)}"));
        }

        var positiveOnly = coverage.Where(r => !r.HasNegativeTest).Select(r => r.Rule.Id).ToList();
        writer.WriteLine();
        writer.WriteLine($"condition outcomes exercised: {coverage.Sum(r => r.OutcomesCovered)} of {coverage.Sum(r => r.OutcomesTotal)}");
        writer.WriteLine(positiveOnly.Count == 0
            ? "every rule has a negative test (expect: [])"
            : TerminalText.Escape($"rules with no negative test (expect: []): {positiveOnly.Count}: {string.Join(", ", positiveOnly)}"));
        writer.WriteLine();
    }

    public static JsonObject Json(ImmutableArray<RuleCoverage> coverage) => new()
    {
        ["outcomes_covered"] = coverage.Sum(r => r.OutcomesCovered),
        ["outcomes_total"] = coverage.Sum(r => r.OutcomesTotal),
        ["rules_without_negative_test"] = new JsonArray([.. coverage.Where(r => !r.HasNegativeTest).Select(r => (JsonNode)r.Rule.Id)]),
        ["rules"] = new JsonArray([.. coverage.Select(rule => (JsonNode)new JsonObject
        {
            ["rule"] = rule.Rule.Id,
            ["file"] = rule.Rule.Source.File,
            ["tests"] = rule.Tests,
            ["positive"] = rule.Positive,
            ["negative"] = rule.Negative,
            ["conditions"] = new JsonArray([.. rule.Conditions.Select(c => (JsonNode)new JsonObject
            {
                ["text"] = c.Text,
                ["true"] = c.WhenTrue,
                ["false"] = c.WhenFalse,
            })]),
            ["types"] = Items(rule.Types.Select(t => (t.Name, t.Tested))),
            ["actions"] = Items(rule.Actions.Select(a => (a.Name, a.Tested))),
        })]),
    };

    private static string Items(ImmutableArray<CoveredItem> items) =>
        string.Join(", ", items.Select(i => i.Tested ? i.Name : $"{i.Name} (untested)"));

    private static JsonArray Items(IEnumerable<(string Name, bool Tested)> items) =>
        new([.. items.Select(i => (JsonNode)new JsonObject { ["name"] = i.Name, ["tested"] = i.Tested })]);
}
