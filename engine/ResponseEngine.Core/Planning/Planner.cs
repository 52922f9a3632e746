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
    private readonly IAccountLinker? _linker;

    /// <param name="linker">Finds the person of a subject for actions with <c>on: linked</c> or a provider list; without one they act on the subject's own account only when its provider is listed.</param>
    public Planner(RuleSet rules, IIdentityResolver directory, TimeProvider time, IAccountLinker? linker = null)
    {
        _rules = rules;
        _directory = directory;
        _time = time;
        _linker = linker;
    }

    /// <summary>The proposals for these findings, in finding order, with identity and condition failures already settled.</summary>
    public Plan Plan(IReadOnlyList<Finding> findings, IProgress<int>? progress = null) => Plan(findings, _time.GetUtcNow(), progress);

    /// <summary>
    /// The proposals for these findings as of <paramref name="now"/>: a run decided window by window evaluates every
    /// window as of its start, as when it was decided at once.
    /// </summary>
    public Plan Plan(IReadOnlyList<Finding> findings, DateTimeOffset now, IProgress<int>? progress = null)
    {
        ArgumentNullException.ThrowIfNull(findings);
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
        var candidates = _rules.Candidates(finding.Type, finding.Subject.Provider, finding.Severity);
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

            var person = rule.Actions.Any(a => !a.Scope.IsSelf) ? _linker?.Link(lookup.Identity) : null;
            Evaluate(rule, finding, lookup.Identity, now, output, person);
        }
    }

    /// <summary>
    /// Evaluates one rule against one finding and identity: the actions it proposes, or one error decision when the
    /// condition fails at run time. Guards are not applied here.
    /// </summary>
    /// <param name="person">The subject's person (its linked accounts), for actions whose <c>on:</c> is not self.</param>
    public static void Evaluate(Rule rule, Finding finding, Identity identity, DateTimeOffset now, ICollection<Decision> output, Person? person = null)
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
            if (invocation.Scope.IsSelf)
            {
                output.Add(new Decision(finding, rule, identity, invocation.Action, invocation.Parameters));
                continue;
            }

            // One decision per account of the person the action's scope takes in, each guarded in its own provider later.
            var who = person ?? Person.Alone(identity);
            foreach (var account in who.Accounts.Where(a => invocation.Scope.Includes(identity, a)))
            {
                output.Add(new Decision(finding, rule, account, invocation.Action, invocation.Parameters) { Person = who, Link = who.In(account.Provider) is { } link && link.Account == account ? link : null });
            }

            // A provider where the link was refused (two candidates, conflicting anchors): no action there, and the reason on record.
            foreach (var refusal in who.Refusals.Where(r => invocation.Scope.Linked || invocation.Scope.Providers.Contains(r.Provider)))
            {
                output.Add(new Decision(finding, rule, null, invocation.Action, invocation.Parameters) { Person = who }
                    .Refuse(Verdict.Skip, "link", $"no {refusal.Provider.Name()} account of {identity.Display} is acted on: {refusal.Reason}"));
            }
        }
    }
}
