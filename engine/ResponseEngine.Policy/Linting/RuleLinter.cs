using System.Collections.Immutable;
using System.Text;
using ResponseEngine.Configuration;
using ResponseEngine.Diagnostics;
using ResponseEngine.Policy.Conditions;
using ResponseEngine.Policy.Yaml;
using ResponseEngine.Rules;

namespace ResponseEngine.Policy.Linting;

/// <summary>
/// Finds what a valid rule set gets wrong as a whole, where it can be decided from the rules alone: rules that undo
/// each other, rules another rule makes redundant, conditions that can never be true, observe rules left past their
/// review date, and rules without the owner or expiry the policy asks for.
/// </summary>
public sealed class RuleLinter(LintOptions policy, TimeProvider time)
{
    private static readonly (string Disables, string Enables)[] Opposites = [("disable_user", "enable_user"), ("deactivate_user", "enable_user")];

    public ImmutableArray<Diagnostic> Lint(IReadOnlyList<Rule> rules)
    {
        var bag = new DiagnosticBag();
        var active = rules.Where(r => r.Mode != RuleMode.Disabled).ToList();
        var regions = active.ToDictionary(r => r, Regions);
        var places = new Dictionary<string, YMapping?>(StringComparer.Ordinal);
        SourceLocation At(Rule rule, string key)
        {
            if (!places.TryGetValue(rule.Source.File, out var map)) places[rule.Source.File] = map = Read(rule.Source.File);
            return map?.Entry(key)?.Key.Location ?? rule.Location;
        }

        foreach (var rule in active)
        {
            Unreachable(rule, regions[rule], At(rule, "when"), bag);
        }

        for (var i = 0; i < active.Count; i++)
        {
            for (var j = 0; j < active.Count; j++)
            {
                if (i == j) continue;
                var (a, b) = (active[i], active[j]);
                if (i < j) Contradiction(a, b, regions[a], regions[b], At, bag);
                Shadowing(a, b, regions[a], regions[b], At(a, "match"), bag);
            }
        }

        var today = DateOnly.FromDateTime(time.GetUtcNow().UtcDateTime);
        foreach (var rule in rules)
        {
            if (rule.Mode == RuleMode.Observe && rule.Expires is { } review && review < today)
            {
                bag.Warning(DiagnosticCodes.LintObservePastReview, At(rule, "expires"),
                    $"rule '{rule.Id}' still observes {(today.DayNumber - review.DayNumber)} days after its review date {review:yyyy-MM-dd}",
                    "decide: switch it to mode: enforce, set a new expires date, or delete it");
            }

            if (rule.Expires is null && policy.RequireExpiry.Contains(rule.Mode))
            {
                bag.Warning(DiagnosticCodes.LintPolicy, At(rule, "mode"),
                    $"rule '{rule.Id}' in mode {Mode(rule.Mode)} has no expires date, which lint.require_expiry asks for",
                    "add expires: YYYY-MM-DD, the date by which the rule is reviewed");
            }

            if (!policy.Owners.IsEmpty && !policy.Owners.Contains(rule.Owner, StringComparer.OrdinalIgnoreCase))
            {
                bag.Warning(DiagnosticCodes.LintPolicy, At(rule, "owner"),
                    $"rule '{rule.Id}' names owner '{rule.Owner}', which is not one of lint.owners",
                    $"use one of: {string.Join(", ", policy.Owners)}");
            }
        }

        return [.. bag.Sorted()];
    }

    /// <summary>The rule's match and condition as terms, each satisfiable; null when the condition is beyond static analysis.</summary>
    private static ImmutableArray<Term>? Regions(Rule rule)
    {
        var match = Region.Match(rule);
        if (rule.When is null) return [match];
        var expression = ConditionCompiler.Parse(rule.When.Text);
        if (expression is null || Region.Of(expression) is not { } terms) return null;
        return [.. terms.Select(match.And).Where(t => t.Satisfiable)];
    }

    private static void Unreachable(Rule rule, ImmutableArray<Term>? region, SourceLocation at, DiagnosticBag bag)
    {
        if (rule.When is null || region is not { } terms) return;
        if (terms.IsEmpty)
        {
            bag.Warning(DiagnosticCodes.LintUnreachable, at, $"the condition of rule '{rule.Id}' can never be true for a finding its match admits",
                "the rule never acts: check the condition against match.types, providers and min_severity, or delete the rule");
            return;
        }

        // A branch of a top-level 'or' that no finding can take is dead text that misleads the reader.
        if (ConditionCompiler.Parse(rule.When.Text) is not { } expression) return;
        var match = Region.Match(rule);
        foreach (var branch in Branches(expression))
        {
            if (Region.Of(branch) is { } branchTerms && branchTerms.All(t => !match.And(t).Satisfiable))
            {
                bag.Warning(DiagnosticCodes.LintUnreachable, at, $"the branch '{ConditionProbes.Describe(branch)}' of rule '{rule.Id}' can never be true for a finding its match admits",
                    "remove the branch, or widen the match if it is meant to apply");
            }
        }
    }

    private static IEnumerable<NCalc.LogicalExpression> Branches(NCalc.LogicalExpression expression)
    {
        if (expression is NCalc.BinaryExpression { Type: NCalc.BinaryExpressionType.Or } or)
        {
            return Branches(or.LeftExpression).Concat(Branches(or.RightExpression));
        }

        return [expression];
    }

    private static void Contradiction(Rule a, Rule b, ImmutableArray<Term>? regionA, ImmutableArray<Term>? regionB, Func<Rule, string, SourceLocation> at, DiagnosticBag bag)
    {
        if (regionA is not { } termsA || regionB is not { } termsB) return;
        foreach (var (disables, enables) in Opposites)
        {
            foreach (var (off, on) in (ReadOnlySpan<(Rule, Rule)>)[(a, b), (b, a)])
            {
                if (!off.Actions.Any(x => x.Action.Name == disables) || !on.Actions.Any(x => x.Action.Name == enables)) continue;
                var offTerms = off == a ? termsA : termsB;
                var onTerms = off == a ? termsB : termsA;
                var overlap = offTerms.SelectMany(x => onTerms.Select(x.And)).FirstOrDefault(t => t.Satisfiable);
                if (overlap is null) continue;
                var example = overlap.Example();
                bag.Error(DiagnosticCodes.LintContradiction, at(off, "actions"),
                    $"rules '{off.Id}' ({disables}) and '{on.Id}' ({enables}, {on.Source.File}:{on.Location.Line}) can both decide for the same finding and identity{(example.Length > 0 ? $" ({example})" : "")}: one undoes the other",
                    "make their matches or conditions exclusive, or delete one");
            }
        }
    }

    private static void Shadowing(Rule a, Rule b, ImmutableArray<Term>? regionA, ImmutableArray<Term>? regionB, SourceLocation at, DiagnosticBag bag)
    {
        if (regionA is not { IsEmpty: false } termsA || regionB is not { } termsB) return;

        // An observe rule acts on nothing: an enforce rule inside its region still does the work.
        if (a.Mode == RuleMode.Enforce && b.Mode != RuleMode.Enforce) return;
        if (!a.Actions.All(x => b.Actions.Any(y => y.Action == x.Action && y.Parameters.Describe() == x.Parameters.Describe()))) return;
        if (!termsA.All(t => termsB.Any(t.Within))) return;

        // Two rules with the same region and actions shadow each other: report it once, on the later one.
        var mutual = termsB.All(t => termsA.Any(t.Within)) && a.Actions.Length == b.Actions.Length;
        if (mutual && string.CompareOrdinal(a.Id, b.Id) < 0) return;
        bag.Warning(DiagnosticCodes.LintShadowed, at,
            $"rule '{a.Id}' is shadowed by '{b.Id}' ({b.Source.File}:{b.Location.Line}): every finding and identity it acts on, '{b.Id}' ({Mode(b.Mode)}) acts on too, with the same actions",
            "delete it, or narrow the other rule if this one is meant to decide these cases");
    }

    private static string Mode(RuleMode mode) => mode switch
    {
        RuleMode.Enforce => "enforce",
        RuleMode.Observe => "observe",
        _ => "disabled",
    };

    private static YMapping? Read(string file)
    {
        try
        {
            var text = Encoding.UTF8.GetString(File.ReadAllBytes(file));
            return YamlDocumentReader.Read(text.TrimStart('\uFEFF'), file, new DiagnosticBag()) as YMapping;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return null;
        }
    }
}
