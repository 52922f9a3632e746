using System.Text.Json;
using ResponseEngine.Audit;
using ResponseEngine.Execution;
using ResponseEngine.Planning;

namespace ResponseEngine.TestKit;

/// <summary>
/// Compares what a plan said with what a run did, decision by decision: the same finding, rule, action and parameters
/// must have the same verdict and the same refusing guard. Also says which limits bound in the run.
/// </summary>
public static class PlanFidelity
{
    /// <summary>One decision's identity and its outcome.</summary>
    public sealed record Row(string Finding, string Rule, string Action, string Parameters, string Verdict, string? Guard, string? Reason);

    /// <summary>The decisions of a plan, from its JSON (schemas/plan.schema.json).</summary>
    public static List<Row> FromPlanJson(string json)
    {
        using var plan = JsonDocument.Parse(json);
        return [.. plan.RootElement.GetProperty("decisions").EnumerateArray().Select(d => new Row(
            d.GetProperty("finding").GetProperty("source").GetString() + "/" + d.GetProperty("finding").GetProperty("id").GetString(),
            d.GetProperty("rule").GetProperty("id").GetString()!,
            d.GetProperty("action").GetString() ?? "",
            Reconciler.ParseParameters(d.GetProperty("parameters").GetRawText()).Canonical,
            d.GetProperty("verdict").GetString()!,
            d.GetProperty("guard").GetString(),
            d.GetProperty("reason").GetString()))];
    }

    /// <summary>The decisions of plans made in process.</summary>
    public static List<Row> FromDecisions(IEnumerable<Decision> decisions) =>
        [.. decisions.Select(d => new Row(d.Finding.Source + "/" + d.Finding.Id, d.Rule.Id, d.Action?.Name ?? "", d.Parameters.Canonical, d.Verdict.Name(), d.Guard, d.Reason))];

    /// <summary>The decisions of a run, from its guard-phase audit rows (intent, refusal or dry-run, one per decision).</summary>
    public static List<Row> FromAudit(IEnumerable<AuditRecord> rows) =>
        [.. rows.Select(r => r.Entry)
            .Where(e => e.FindingId is not null && e.Status is AuditStatus.Intended or AuditStatus.Skipped or AuditStatus.Held or AuditStatus.DryRun)
            .Select(e => new Row(e.FindingSource + "/" + e.FindingId, e.RuleId!, e.Action ?? "", Reconciler.ParseParameters(e.Parameters).Canonical,
                e.Verdict!, e.Guard, e.Reason))];

    /// <summary>Every decision whose verdict or guard differs, or that only one side has; empty when the plan is the run.</summary>
    public static List<string> Mismatches(IReadOnlyList<Row> plan, IReadOnlyList<Row> run)
    {
        static string Key(Row r) => $"{r.Finding} {r.Rule} {r.Action} {r.Parameters}";
        var planned = plan.ToLookup(Key);
        var done = run.ToLookup(Key);
        var mismatches = new List<string>();
        foreach (var key in planned.Select(g => g.Key).Union(done.Select(g => g.Key)).Order(StringComparer.Ordinal))
        {
            var a = planned[key].Select(r => $"{r.Verdict}/{r.Guard}").Order(StringComparer.Ordinal).ToList();
            var b = done[key].Select(r => $"{r.Verdict}/{r.Guard}").Order(StringComparer.Ordinal).ToList();
            if (!a.SequenceEqual(b))
            {
                mismatches.Add($"{key}: plan [{string.Join(", ", a)}] run [{string.Join(", ", b)}] (plan: {planned[key].FirstOrDefault()?.Reason}; run: {done[key].FirstOrDefault()?.Reason})");
            }
        }

        return mismatches;
    }

    /// <summary>The limits that refused at least one decision: breaker, rate_limited:rule, rate_limited:provider, cooldown, pending_remediation, ….</summary>
    public static IEnumerable<string> Bound(IEnumerable<Row> run) => run.Where(r => r.Guard is not null).Select(r => r.Guard switch
    {
        "rate_limited" when r.Reason?.StartsWith("rule ", StringComparison.Ordinal) == true => "rate_limited:rule",
        "rate_limited" when r.Reason?.StartsWith("provider ", StringComparison.Ordinal) == true => "rate_limited:provider",
        _ => r.Guard!,
    }).Distinct();
}
