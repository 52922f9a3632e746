using ResponseEngine.Findings;
using ResponseEngine.Identities;
using ResponseEngine.Planning;
using ResponseEngine.Rules;

namespace ResponseEngine.Execution;

/// <summary>
/// The whole pipeline for a batch of findings: resolve every subject through its provider's connector (a failed
/// lookup means no action), propose, then guard and execute in the <see cref="Executor"/>. A plan is this same run, in
/// dry-run over a directory snapshot (<see cref="PlanRun"/>).
/// </summary>
public static class ResponseRun
{
    public static async Task<(Plan Plan, RunSummary Summary)> RunAsync(RuleSet rules, IReadOnlyList<Finding> findings, RunContext run,
        IProgress<int>? progress, CancellationToken cancellationToken)
    {
        using var activity = EngineTelemetry.Source.StartActivity("respond.run");
        activity?.SetTag("respond.run.id", run.RunId).SetTag("respond.findings", findings.Count).SetTag("respond.dry_run", run.DryRun);
        var resolver = await ResolveAsync(findings, run, cancellationToken);
        var plan = new Planner(rules, resolver, run.Time).Plan(findings);
        using var executor = new Executor(run);
        var summary = await executor.ExecuteAsync(plan.Decisions, progress, cancellationToken);
        return (plan, summary);
    }

    /// <summary>Looks up each distinct subject once, within the action timeout; connector faults and timeouts become "not resolved", never an action.</summary>
    public static async Task<IIdentityResolver> ResolveAsync(IEnumerable<Finding> findings, RunContext run, CancellationToken cancellationToken)
    {
        var resolved = new Dictionary<Subject, IdentityLookup>();
        foreach (var subject in findings.Select(f => f.Subject).Distinct())
        {
            if (!run.Connectors.TryGetValue(subject.Provider, out var connector))
            {
                resolved[subject] = IdentityLookup.NotFound($"no connector is configured for {subject.Provider.Name()}");
                continue;
            }

            using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
            timeout.CancelAfter(run.Options.ActionTimeout);
            try
            {
                resolved[subject] = await connector.ResolveAsync(subject, timeout.Token);
            }
            catch (ConnectorException e)
            {
                resolved[subject] = IdentityLookup.NotFound($"directory lookup failed: {e.Message}");
            }
            catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
            {
                resolved[subject] = IdentityLookup.NotFound($"directory lookup got no answer within {run.Options.ActionTimeout.TotalSeconds:0.#} s");
            }
        }

        return new ResolvedIdentities(resolved);
    }

    private sealed class ResolvedIdentities(Dictionary<Subject, IdentityLookup> resolved) : IIdentityResolver
    {
        public IdentityLookup Resolve(Subject subject) =>
            resolved.TryGetValue(subject, out var lookup) ? lookup : IdentityLookup.NotFound("subject was not looked up");
    }
}
