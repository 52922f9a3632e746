using System.Collections;
using System.Collections.Immutable;
using ResponseEngine.Audit;
using ResponseEngine.Audit.Sqlite;
using ResponseEngine.Connectors.Local;
using ResponseEngine.Execution;
using ResponseEngine.Findings;
using ResponseEngine.Identities;
using ResponseEngine.Policy.Configuration;
using ResponseEngine.Policy.Rules;
using ResponseEngine.Reliability.Tests.Security;

namespace ResponseEngine.Reliability.Tests.Privilege;

/// <summary>A change the connector made to the directory, seen around its apply, with the open intents that matched it then.</summary>
public sealed record Effect(int Run, string Action, Provider Provider, string Target, string Parameters, ImmutableArray<long> OpenIntents);

/// <summary>What the runs of one case left: the directory before and after, the audit trail, the effects seen, and anything that went wrong running.</summary>
public sealed record CaseOutcome(DirectoryState Before, DirectoryState? After, IReadOnlyList<AuditRecord> Trail, IReadOnlyList<Effect>? Effects, IReadOnlyList<string> Problems);

/// <summary>
/// Runs a generated case through the real executor on the local directory connector and one SQLite store: each run in
/// process (its own directory handle, store connection and run context, as a process would have), or each run as a
/// `respond run --once` child process on the same working copy and store.
/// </summary>
public static class AdversaryHarness
{
    public static DateTimeOffset Now { get; } = new(2026, 12, 1, 8, 0, 0, TimeSpan.Zero);

    public static async Task<CaseOutcome> InProcessAsync(AdversaryCase c, string folder, CancellationToken cancellationToken)
    {
        var (before, problems, options) = Prepare(c, folder);
        if (options is null) return new CaseOutcome(before, null, [], null, problems);
        var time = new ShiftedClock(Now);
        var rules = RuleLoader.Default(time).LoadDirectory(Path.Combine(folder, "rules"));
        if (rules.RuleSet is null) return new CaseOutcome(before, null, [], null, [$"the generated rules do not load: {string.Join("; ", rules.Diagnostics)}"]);

        var db = Path.Combine(folder, "respond.db");
        await using (var first = new SqliteAuditStore(db, time)) await first.InitializeAsync(cancellationToken);
        var effects = new List<Effect>();
        using var applyGate = new SemaphoreSlim(1, 1);
        async Task RunOneAsync(int i)
        {
            var read = FindingReader.ReadPaths([Path.Combine(folder, CaseFiles.FindingsFile(i))]);
            if (read.HasErrors)
            {
                lock (problems) problems.Add($"run {i + 1}: the generated findings do not read: {string.Join("; ", read.Diagnostics)}");
                return;
            }

            await using var store = new SqliteAuditStore(db, time);
            await store.InitializeAsync(cancellationToken);
            using var directory = LocalDirectory.Open(Path.Combine(folder, options.Local.Snapshot), Path.Combine(folder, options.Local.WorkingCopy), time, options.Privileged);
            var connectors = Providers.All.ToDictionary(p => p, p => (IConnector)new RecordingConnector(directory.Connector(p), store, applyGate, effects, i + 1));
            var run = new RunContext($"run-{i + 1}", options, store, connectors, time, false, "adversary", "test", "test");
            try
            {
                await ResponseRun.RunAsync(rules.RuleSet, read.Findings, run, null, cancellationToken);
            }
            catch (Exception e) when (e is not OperationCanceledException)
            {
                lock (problems) problems.Add($"run {i + 1} ended with {e.GetType().Name}: {e.Message}");
            }
        }

        if (c.Sequential)
        {
            for (var i = 0; i < c.Runs.Length; i++) await RunOneAsync(i);
        }
        else
        {
            await Task.WhenAll(c.Runs.Select((_, i) => Task.Run(() => RunOneAsync(i), cancellationToken)));
        }

        return await FinishAsync(before, folder, options, time, effects, problems, cancellationToken);
    }

    public static async Task<CaseOutcome> ProcessesAsync(AdversaryCase c, string folder, CancellationToken cancellationToken)
    {
        var (before, problems, options) = Prepare(c, folder);
        if (options is null) return new CaseOutcome(before, null, [], null, problems);
        var results = await Task.WhenAll(c.Runs.Select((_, i) =>
            Respond.RunAsync(folder, new Dictionary<string, string>(), "run", "--once", "--config", "respond.yaml", "--findings", CaseFiles.FindingsFile(i))));
        for (var i = 0; i < results.Length; i++)
        {
            // 1 is "an action failed": the lockout and exactly-once checks decide about that, the failure check reports it.
            if (results[i].ExitCode is not (0 or 1) || results[i].Error.Contains("stopped", StringComparison.Ordinal))
            {
                problems.Add($"process {i + 1}: {results[i]}");
            }
        }

        return await FinishAsync(before, folder, options, new ShiftedClock(Now), null, problems, cancellationToken);
    }

    /// <summary>Writes the case; checks that the snapshot and respond.yaml read (a field the format cannot express is a finding in itself).</summary>
    private static (DirectoryState Before, List<string> Problems, Configuration.EngineOptions? Options) Prepare(AdversaryCase c, string folder)
    {
        CaseFiles.Write(c, folder);
        var before = DirectoryState.Parse(File.ReadAllText(Path.Combine(folder, "directory.json")));
        var config = ConfigLoader.Load(Path.Combine(folder, "respond.yaml"), new Hashtable());
        if (config.Options is null) return (before, [$"respond.yaml does not load: {string.Join("; ", config.Diagnostics)}"], null);
        var snapshot = SnapshotReader.ReadFile(Path.Combine(folder, "directory.json"), config.Options.Privileged);
        if (snapshot.Snapshot is null || snapshot.Diagnostics.Any(d => d.IsError))
        {
            return (before, [$"the snapshot format cannot express this graph: {string.Join("; ", snapshot.Diagnostics.Where(d => d.IsError))}"], null);
        }

        return (before, [], config.Options);
    }

    private static async Task<CaseOutcome> FinishAsync(DirectoryState before, string folder, Configuration.EngineOptions options, TimeProvider time, List<Effect>? effects,
        List<string> problems, CancellationToken cancellationToken)
    {
        await using var store = new SqliteAuditStore(Path.Combine(folder, "respond.db"), time);
        await store.InitializeAsync(cancellationToken);
        var trail = await store.ReadAsync(new AuditQuery(), cancellationToken);
        var workingCopy = Path.Combine(folder, options.Local.WorkingCopy);
        var after = File.Exists(workingCopy) ? DirectoryState.Parse(await File.ReadAllTextAsync(workingCopy, cancellationToken)) : before;
        return new CaseOutcome(before, after, trail, effects, problems);
    }

    /// <summary>
    /// Real time moved to start at <see cref="Now"/>: the store's lock waits on its clock between tries, so concurrent runs in
    /// one process need a clock that moves, as processes have; the start stays fixed so the findings' age does not vary.
    /// </summary>
    private sealed class ShiftedClock(DateTimeOffset start) : TimeProvider
    {
        private readonly long _origin = System.GetTimestamp();

        public override DateTimeOffset GetUtcNow() => start + System.GetElapsedTime(_origin);
    }

    /// <summary>
    /// The local connector, recording every change it makes: under one gate shared by the case's runs, it reads whether the
    /// action is already done, looks up the open intents for that action and account, applies, and reads again.
    /// </summary>
    private sealed class RecordingConnector(IConnector inner, IAuditStore store, SemaphoreSlim gate, List<Effect> effects, int run) : IConnector
    {
        public Provider Provider => inner.Provider;

        public Task<IdentityLookup> ResolveAsync(Subject subject, CancellationToken cancellationToken) => inner.ResolveAsync(subject, cancellationToken);

        public Task<TargetState> ReadAsync(ActionRequest request, CancellationToken cancellationToken) => inner.ReadAsync(request, cancellationToken);

        public async Task ApplyAsync(ActionRequest request, CancellationToken cancellationToken)
        {
            await gate.WaitAsync(cancellationToken);
            try
            {
                var done = (await inner.ReadAsync(request, cancellationToken)).AlreadyDone;
                var open = (await store.OpenIntentsAsync(cancellationToken))
                    .Where(i => i.Entry.Action == request.Action.Name && i.Entry.Provider == request.Target.Provider.Name() && i.Entry.IdentityId == request.Target.Id)
                    .Select(i => i.Sequence).ToImmutableArray();
                await inner.ApplyAsync(request, cancellationToken);
                if (!done && (await inner.ReadAsync(request, CancellationToken.None)).AlreadyDone)
                {
                    lock (effects) effects.Add(new Effect(run, request.Action.Name, request.Target.Provider, request.Target.Id, request.Parameters.Canonical, open));
                }
            }
            finally
            {
                gate.Release();
            }
        }

        public Task<bool> VerifyAsync(ActionRequest request, CancellationToken cancellationToken) => inner.VerifyAsync(request, cancellationToken);

        public Task RestoreAsync(ActionRequest request, string priorState, CancellationToken cancellationToken) => inner.RestoreAsync(request, priorState, cancellationToken);

        public Task<CriticalSet> CountCriticalAsync(string groupOrRole, CancellationToken cancellationToken) => inner.CountCriticalAsync(groupOrRole, cancellationToken);
    }
}
