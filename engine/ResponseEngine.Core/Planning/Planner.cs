using System.Collections.Immutable;
using ResponseEngine.Actions;
using ResponseEngine.Findings;
using ResponseEngine.Identities;
using ResponseEngine.Rules;

namespace ResponseEngine.Planning;

/// <summary>
/// Turns findings into proposed decisions: resolve the identity (fail closed), find the candidate rules by index,
/// evaluate conditions. No guard is applied here: every proposal meets the guards in the executor, in a run and in a
/// plan alike (<see cref="PlanRun"/>), so there is one order and one guard sequence.
/// </summary>
public sealed class Planner
{
    private readonly RuleSet _rules;
    private readonly IIdentityResolver _directory;
    private readonly TimeProvider _time;

    public Planner(RuleSet rules, IIdentityResolver directory, TimeProvider time)
    {
        _rules = rules;
        _directory = directory;
        _time = time;
    }

    /// <summary>The proposals for these findings, in finding order, with identity and condition failures already settled.</summary>
    public Plan Plan(IReadOnlyList<Finding> findings, IProgress<int>? progress = null)
    {
        ArgumentNullException.ThrowIfNull(findings);
        var now = _time.GetUtcNow();
        var decisions = ImmutableArray.CreateBuilder<Decision>();
        var matched = 0;
        for (var i = 0; i < findings.Count; i++)
        {
            var before = decisions.Count;
            Decide(findings[i], now, decisions);
            if (decisions.Count > before) matched++;
            if (progress is not null && (i & 1023) == 0) progress.Report(i);
        }

        return new Plan(now, decisions.ToImmutable(), findings.Count, matched, _rules.Rules.Length, _rules.GitCommit) { RulesUncommitted = _rules.UncommittedFiles };
    }

    private void Decide(Finding finding, DateTimeOffset now, ImmutableArray<Decision>.Builder output)
    {
        var candidates = _rules.Candidates(finding.Type, finding.Subject.Provider);
        if (candidates.IsEmpty) return;
        IdentityLookup? lookup = null;
        foreach (var rule in candidates)
        {
            if (finding.Severity < rule.Match.MinSeverity) continue;
            lookup ??= _directory.Resolve(finding.Subject);
            if (lookup.Identity is null)
            {
                // Fail closed: without a resolved identity no condition is evaluated and nothing is done.
                foreach (var invocation in rule.Actions)
                {
                    output.Add(new Decision(finding, rule, null, invocation.Action, invocation.Parameters)
                        .Refuse(Verdict.Skip, "identity", lookup.Problem ?? "identity not resolved"));
                }

                continue;
            }

            Evaluate(rule, finding, lookup.Identity, now, output);
        }
    }

    /// <summary>
    /// Evaluates one rule against one finding and identity: the actions it proposes, or one error decision when the
    /// condition fails at run time. Guards are not applied here.
    /// </summary>
    public static void Evaluate(Rule rule, Finding finding, Identity identity, DateTimeOffset now, ICollection<Decision> output)
    {
        if (!rule.Matches(finding)) return;
        if (rule.When is not null)
        {
            bool applies;
            try
            {
                applies = rule.When.Evaluate(new EvaluationContext(finding, identity, now));
            }
            catch (ConditionException e)
            {
                output.Add(new Decision(finding, rule, identity, null, ActionParameters.Empty)
                    .Refuse(Verdict.Error, "condition", e.Message));
                return;
            }

            if (!applies) return;
        }

        foreach (var invocation in rule.Actions)
        {
            output.Add(new Decision(finding, rule, identity, invocation.Action, invocation.Parameters));
        }
    }
}
