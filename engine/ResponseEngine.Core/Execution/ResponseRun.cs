using System.Collections.Immutable;
using ResponseEngine.Findings;
using ResponseEngine.Identities;
using ResponseEngine.Planning;
using ResponseEngine.Rules;

namespace ResponseEngine.Execution;

/// <summary>
/// The whole pipeline for findings, in windows of <see cref="WindowSize"/> findings: resolve every subject of the window
/// through its provider's connector (a failed lookup means no action), propose, then guard and execute in the
/// <see cref="Executor"/>, whose in-run state (what this run passed, what it did to each account) carries over from window
/// to window. A plan is this same run, in dry-run over a directory snapshot (<see cref="PlanRun"/>), window for window,
/// so that findings are read, decided and written as a stream and the guards meet the same decisions in the same order.
/// </summary>
public static class ResponseRun
{
    /// <summary>
    /// Findings decided together: resolved together, proposed together and guarded in one provider-fair order (one
    /// decision of each provider in turn). Bounds a run's and a plan's memory by the window, not by the input.
    /// </summary>
    public const int WindowSize = 4096;

    public static async Task<(Plan Plan, RunSummary Summary)> RunAsync(RuleSet rules, IReadOnlyList<Finding> findings, RunContext run,
        IProgress<int>? progress, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(rules);
        ArgumentNullException.ThrowIfNull(findings);
        ArgumentNullException.ThrowIfNull(run);
        using var activity = EngineTelemetry.Source.StartActivity("respond.run");
        activity?.SetTag("respond.run.id", run.RunId).SetTag("respond.findings", findings.Count).SetTag("respond.dry_run", run.DryRun);
        using var executor = new Executor(run);
        var decisions = ImmutableArray.CreateBuilder<Decision>();
        var results = ImmutableArray.CreateBuilder<DecisionResult>();
        var done = 0;
        var (createdAt, total, matched) = await DecideAsync(rules, findings, run, executor, (proposed, summary) =>
        {
            decisions.AddRange(proposed.Decisions);
            results.AddRange(summary.Results);

            done += summary.Results.Length;
            return ValueTask.CompletedTask;
        }, progress is null ? null : new Offset(progress, () => done), cancellationToken);
        var plan = new Plan(createdAt, decisions.ToImmutable(), total, matched, rules.Rules.Length, rules.GitCommit) { RulesUncommitted = rules.UncommittedFiles };
        return (plan, new RunSummary(run.RunId, run.DryRun, results.ToImmutable()));
    }

    /// <summary>
    /// The one decision pipeline of runs and plans: <paramref name="findings"/> (read lazily) window by window, each
    /// resolved, proposed as of the run's start and guarded and acted on by <paramref name="executor"/>; each window's
    /// proposals and results go to <paramref name="decided"/> before the next window is read. Returns when the run was
    /// decided as of, and how many findings there were and how many of them a rule matched.
    /// </summary>
    /// <param name="link">How a window's linked accounts are found (a plan: the snapshot's); null: <see cref="LinkAsync"/> through the connectors.</param>
    public static async Task<(DateTimeOffset CreatedAt, int Findings, int Matched)> DecideAsync(RuleSet rules, IEnumerable<Finding> findings, RunContext run,
        Executor executor, Func<Plan, RunSummary, ValueTask> decided, IProgress<int>? progress, CancellationToken cancellationToken,
        Func<IReadOnlyList<Finding>, IIdentityResolver, Task<IAccountLinker?>>? link = null)
    {
        ArgumentNullException.ThrowIfNull(rules);
        ArgumentNullException.ThrowIfNull(findings);
        ArgumentNullException.ThrowIfNull(run);
        ArgumentNullException.ThrowIfNull(executor);
        ArgumentNullException.ThrowIfNull(decided);
        var now = run.Time.GetUtcNow();
        var total = 0;
        var matched = 0;
        var window = new List<Finding>(WindowSize);
        async Task DecideWindowAsync()
        {
            var resolver = await ResolveAsync(window, run, cancellationToken);
            var linker = link is null ? await LinkAsync(rules, window, resolver, run, cancellationToken) : await link(window, resolver);
            var proposed = new Planner(rules, resolver, run.Time, linker).Plan(window, now);
            var summary = await executor.ExecuteAsync(proposed.Decisions, progress, cancellationToken);
            if (summary.Results.Length != proposed.Decisions.Length)
            {
                throw new InvalidOperationException($"the run decided {summary.Results.Length} of {proposed.Decisions.Length} proposals");
            }

            total += window.Count;
            matched += proposed.MatchedFindingCount;
            await decided(proposed, summary);
            window.Clear();
        }

        foreach (var finding in findings)
        {
            window.Add(finding);
            if (window.Count == WindowSize) await DecideWindowAsync();
        }

        if (window.Count > 0) await DecideWindowAsync();
        return (now, total, matched);
    }

    /// <summary>Progress within a window, reported on top of what earlier windows did.</summary>
    private sealed class Offset(IProgress<int> progress, Func<int> before) : IProgress<int>
    {
        public void Report(int value) => progress.Report(before() + value);
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

    /// <summary>
    /// The people of the findings' subjects, for rules with actions <c>on: linked</c> or on a provider list (null when no
    /// rule has one): every account of each configured directory that can export is read once, linked by exact anchors
    /// (<see cref="IdentityLinker"/>), and each linked account is then looked up again through its connector, so the
    /// guards decide on what the directory says now. A directory that cannot be read, or a linked account that no longer
    /// resolves, refuses that provider with the reason (never an action on a guess).
    /// </summary>
    public static async Task<IAccountLinker?> LinkAsync(RuleSet rules, IEnumerable<Finding> findings, IIdentityResolver resolver, RunContext run,
        CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(rules);
        ArgumentNullException.ThrowIfNull(resolver);
        ArgumentNullException.ThrowIfNull(run);
        // Only when some finding meets a rule acting on linked accounts: reading every directory is not free.
        var subjects = findings.Where(f => ActsOnLinked(rules, f))
            .Select(f => f.Subject).Distinct().ToList();
        if (subjects.Count == 0) return null;
        var exports = new List<DirectoryExport>();
        var unreadable = new Dictionary<Provider, string>();
        foreach (var (provider, connector) in run.Connectors)
        {
            if (connector is not IDirectoryExport export)
            {
                unreadable[provider] = $"the {provider.Name()} connector cannot list its accounts to link them";
                continue;
            }

            try
            {
                exports.Add(await export.ExportAsync(cancellationToken));
            }
            catch (Exception e) when (e is not OperationCanceledException || !cancellationToken.IsCancellationRequested)
            {
                // No links in a directory that cannot be read: its accounts are refused with the reason, the run goes on.
                unreadable[provider] = $"the {provider.Name()} accounts could not be read to link them: {e.Message}";
            }
        }

        var directory = DirectorySnapshot.Build(exports.SelectMany(e => e.Users), exports.SelectMany(e => e.Groups), run.Options.Privileged);
        var linker = new IdentityLinker(directory.Users, run.Options.Linking);
        var people = new Dictionary<(Provider, string), Person>();
        foreach (var subject in subjects)
        {
            if (resolver.Resolve(subject).Identity is not { } identity || people.ContainsKey((identity.Provider, identity.Id))) continue;
            var person = linker.Link(identity);
            var linked = new List<AccountLink>();
            var refusals = person.Refusals.ToList();
            foreach (var link in person.Linked)
            {
                var account = link.Account;
                IdentityLookup lookup;
                try
                {
                    lookup = run.Connectors.TryGetValue(account.Provider, out var connector)
                        ? await connector.ResolveAsync(new Subject(account.Provider, account.Id, account.Name), cancellationToken)
                        : IdentityLookup.NotFound($"no connector is configured for {account.Provider.Name()}");
                }
                catch (Exception e) when (e is not OperationCanceledException || !cancellationToken.IsCancellationRequested)
                {
                    lookup = IdentityLookup.NotFound($"directory lookup failed: {e.Message}");
                }

                if (lookup.Identity is { } live) linked.Add(link with { Account = live });
                else refusals.Add(new LinkRefusal(account.Provider, $"the linked account {account.Display} did not resolve again: {lookup.Problem}"));
            }

            refusals.AddRange(unreadable.Where(u => u.Key != identity.Provider && refusals.All(r => r.Provider != u.Key)).Select(u => new LinkRefusal(u.Key, u.Value)));
            people[(identity.Provider, identity.Id)] = new Person(identity, [.. linked], [.. refusals.OrderBy(r => r.Provider)]);
        }

        return new KnownPeople(people);
    }

    private static bool ActsOnLinked(RuleSet rules, Finding finding)
    {
        foreach (var rule in rules.Candidates(finding.Type, finding.Subject.Provider))
        {
            if (rule.Actions.Any(a => !a.Scope.IsSelf)) return true;
        }

        return false;
    }

    private sealed class KnownPeople(Dictionary<(Provider, string), Person> people) : IAccountLinker
    {
        public Person Link(Identity subject) =>
            people.TryGetValue((subject.Provider, subject.Id), out var person) ? person : Person.Alone(subject);
    }

    private sealed class ResolvedIdentities(Dictionary<Subject, IdentityLookup> resolved) : IIdentityResolver
    {
        public IdentityLookup Resolve(Subject subject) =>
            resolved.TryGetValue(subject, out var lookup) ? lookup : IdentityLookup.NotFound("subject was not looked up");
    }
}
