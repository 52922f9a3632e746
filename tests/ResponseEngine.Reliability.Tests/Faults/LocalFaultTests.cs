using Microsoft.Extensions.Time.Testing;
using ResponseEngine.Actions;
using ResponseEngine.Audit;
using ResponseEngine.Audit.Sqlite;
using ResponseEngine.Configuration;
using ResponseEngine.Connectors.Local;
using ResponseEngine.Execution;
using ResponseEngine.Findings;
using ResponseEngine.Identities;
using ResponseEngine.Policy.Rules;
using ResponseEngine.TestKit;

namespace ResponseEngine.Reliability.Tests.Faults;

/// <summary>Where a faulty connector call goes wrong.</summary>
public enum ConnectorFault
{
    None,

    /// <summary>A transient ConnectorException before the call does anything.</summary>
    FailBefore,

    /// <summary>The call acts, then reports a transient failure (the lost answer).</summary>
    FailAfter,

    /// <summary>The call never returns; the executor's action timeout ends it.</summary>
    Hang,
}

/// <summary>
/// The local directory connector with seeded faults on every call (resolve, read, apply, verify, count): transient
/// failures before or after the call acts, and hangs that only the executor's timeout ends. Each apply is checked: an
/// open intent must exist, and a change of state is an effect.
/// </summary>
public sealed class FaultyConnector(IConnector inner, int seed, double rate, IAuditStore store) : IConnector
{
    private static readonly ConnectorFault[] Kinds = [ConnectorFault.FailBefore, ConnectorFault.FailAfter, ConnectorFault.Hang];
    private readonly Random _random = new(seed);

    public Provider Provider => inner.Provider;

    public bool Quiet { get; set; }

    public Dictionary<string, int> Injected { get; } = [];

    public List<(string Action, string Target, string Parameters, bool IntentWasOpen)> Effects { get; } = [];

    public Task<IdentityLookup> ResolveAsync(Subject subject, CancellationToken cancellationToken) => Faulty("resolve", () => inner.ResolveAsync(subject, cancellationToken), cancellationToken);

    public Task<TargetState> ReadAsync(ActionRequest request, CancellationToken cancellationToken) => Faulty("read", () => inner.ReadAsync(request, cancellationToken), cancellationToken);

    public Task ApplyAsync(ActionRequest request, CancellationToken cancellationToken) => Faulty("apply", async () =>
    {
        var before = (await inner.ReadAsync(request, cancellationToken)).AlreadyDone;
        var open = (await store.OpenIntentsAsync(cancellationToken)).Any(i => i.Entry.Action == request.Action.Name && i.Entry.IdentityId == request.Target.Id);
        await inner.ApplyAsync(request, cancellationToken);
        var after = (await inner.ReadAsync(request, CancellationToken.None)).AlreadyDone;
        if (!before && after) Effects.Add((request.Action.Name, request.Target.Id, request.Parameters.Canonical, open));
        return true;
    }, cancellationToken);

    public Task<bool> VerifyAsync(ActionRequest request, CancellationToken cancellationToken) => Faulty("verify", () => inner.VerifyAsync(request, cancellationToken), cancellationToken);

    public Task RestoreAsync(ActionRequest request, string priorState, CancellationToken cancellationToken) => inner.RestoreAsync(request, priorState, cancellationToken);

    public Task<CriticalSet> CountCriticalAsync(string groupOrRole, CancellationToken cancellationToken) => Faulty("count", () => inner.CountCriticalAsync(groupOrRole, cancellationToken), cancellationToken);

    private async Task<T> Faulty<T>(string call, Func<Task<T>> work, CancellationToken cancellationToken)
    {
        var fault = !Quiet && _random.NextDouble() < rate ? Kinds[_random.Next(Kinds.Length)] : ConnectorFault.None;
        if (fault != ConnectorFault.None) Injected[$"{call}:{fault}"] = Injected.GetValueOrDefault($"{call}:{fault}") + 1;
        switch (fault)
        {
            case ConnectorFault.FailBefore:
                throw new ConnectorException($"injected: {call} failed before acting", transient: true);
            case ConnectorFault.Hang:
                // A call that never answers: only the executor's timeout (or the run's cancellation) ends it.
                await Task.Delay(Timeout.InfiniteTimeSpan, cancellationToken);
                throw new InvalidOperationException("unreachable");
            case ConnectorFault.FailAfter:
                await work();
                throw new ConnectorException($"injected: {call} acted, then the answer was lost", transient: true);
            default:
                return await work();
        }
    }
}

/// <summary>
/// The shipped rules on the sample findings and directory (245 decisions, every guard in play), through a local
/// connector that fails, loses answers and hangs at a seeded rate. Every decision ends in a recorded final status; each
/// intent has one outcome; the breaker still holds destructive actions to its threshold; nothing takes effect twice or
/// without its intent; succeeded means the directory changed.
/// </summary>
[Trait("Reads", RepoPaths.ReadsShippedRules)]
public sealed class LocalFaultTests
{
    public static TheoryData<int> Seeds()
    {
        var data = new TheoryData<int>();
        for (var seed = 1; seed <= Reliability.Inputs(5); seed++) data.Add(seed);
        return data;
    }

    [Theory]
    [MemberData(nameof(Seeds))]
    public async Task Run_WithFaultyLocalConnector_EveryDecisionFinalAndGuardsHold(int seed)
    {
        var cancel = TestContext.Current.CancellationToken;
        var time = new FakeTimeProvider(new DateTimeOffset(2026, 11, 26, 8, 0, 0, TimeSpan.Zero));
        using var scratch = Reliability.ScratchDirectory();
        await using var store = new SqliteAuditStore(Path.Combine(scratch.Path, "respond.db"), time);
        await store.InitializeAsync(cancel);
        using var directory = LocalDirectory.Open(RepoPaths.SampleDirectory, Path.Combine(scratch.Path, "state", "directory.json"), time);
        var faulty = Providers.All.ToDictionary(p => p, p => new FaultyConnector(directory.Connector(p), seed * 31 + (int)p, 0.06, store));
        var options = new EngineOptions { ActionTimeout = TimeSpan.FromSeconds(1) };
        var rules = RuleLoader.Default(time).LoadDirectory(RepoPaths.Rules);
        var findings = FindingReader.ReadPaths([RepoPaths.SampleFindings]);
        var run = new RunContext("faulty", options, store, faulty.ToDictionary(kv => kv.Key, kv => (IConnector)kv.Value), time, false, "reliability", "test", "test");

        var (_, summary) = await ResponseRun.RunAsync(rules.RuleSet!, findings.Findings, run, null, cancel);

        var because = $"seed {seed}";
        summary.Results.Should().OnlyContain(r => r.Status != AuditStatus.Intended, because);
        (await store.OpenIntentsAsync(cancel)).Should().BeEmpty(because);
        var rows = await store.ReadAsync(new AuditQuery(), cancel);
        var intents = rows.Where(r => r.Entry.Status == AuditStatus.Intended).ToList();
        var outcomes = rows.Where(r => r.Entry.IntentSequence is not null).ToLookup(r => r.Entry.IntentSequence!.Value);
        intents.Should().OnlyContain(i => outcomes[i.Sequence].Count() == 1, because);
        intents.Count(i => i.Entry.Destructive).Should().BeLessThanOrEqualTo(options.Guards.Breaker.Threshold, because);

        var effects = faulty.Values.SelectMany(c => c.Effects).ToList();
        effects.GroupBy(e => (e.Action, e.Target, e.Parameters)).Should().OnlyContain(g => g.Count() == 1, "nothing takes effect twice; " + because);
        effects.Should().OnlyContain(e => e.IntentWasOpen, "every effect follows its durable intent; " + because);
        foreach (var intent in intents.Where(i => outcomes[i.Sequence].Single().Entry.Status == AuditStatus.Succeeded))
        {
            effects.Should().Contain(e => e.Action == intent.Entry.Action && e.Target == intent.Entry.IdentityId,
                $"#{intent.Sequence} {intent.Entry.Action} on {intent.Entry.IdentityName} is recorded succeeded; {because}");
        }

        var injected = faulty.Values.SelectMany(c => c.Injected).GroupBy(kv => kv.Key).ToDictionary(g => g.Key, g => g.Sum(kv => kv.Value));
        injected.Values.Sum().Should().BePositive(because);
        Reliability.Record("local-faults", $"seed={seed} decisions={summary.Results.Length} faults={injected.Values.Sum()} "
            + string.Join(' ', injected.OrderBy(k => k.Key).Select(k => $"{k.Key}={k.Value}"))
            + $" statuses: {string.Join(' ', summary.Results.GroupBy(r => r.Status).OrderBy(g => g.Key).Select(g => $"{g.Key.Name()}={g.Count()}"))}"
            + $" effects={effects.Count} duplicated=0");
    }
}
