using System.Globalization;
using CsCheck;
using Microsoft.Extensions.Time.Testing;
using ResponseEngine.Audit;
using ResponseEngine.Audit.Sqlite;
using ResponseEngine.Configuration;
using ResponseEngine.Connectors.Local;
using ResponseEngine.Execution;
using ResponseEngine.Findings;
using ResponseEngine.Identities;
using ResponseEngine.Planning;
using ResponseEngine.Policy.Configuration;
using ResponseEngine.Rules;
using ResponseEngine.TestKit;

namespace ResponseEngine.Core.Tests;

/// <summary>
/// The guards read the trail once per guard batch (<see cref="GuardView"/>) and answer exactly as when each guard queries
/// the store for each decision. Generated trails — intents open, succeeded, noop, failed, timed out, undo rows, several
/// runs (this run's id too), dry-run rows, refusals, breaker openings and re-arms, at times clustered around the edges of
/// the rate-limit, breaker, cooldown and dedupe windows — and generated rule sets, findings and directories (the decision
/// batches); the clock moves on between decisions, so rows leave the windows in the middle of a batch. The same run on two
/// copies of the trail, one through the view and one through a store that does not allow it, must write the same rows:
/// every decision the same verdict, guard and reason, in the same order.
/// </summary>
public sealed class GuardViewPropertyTests : IDisposable
{
    private static readonly CancellationToken Ct = TestContext.Current.CancellationToken;
    private readonly TempDirectory _temp = new();

    public void Dispose() => _temp.Dispose();

    [Fact]
    public async Task BatchedReads_GeneratedTrailsAndBatches_DecideAsPerDecisionQueries()
    {
        var compared = 0;
        var guards = new HashSet<string>(StringComparer.Ordinal);
        await Gen.Int[0, 1_000_000].SampleAsync(async seed =>
        {
            var (viewed, queried, views) = await RunBothAsync(seed, sqlite: false);
            views.Should().BeGreaterThan(0, "the batched side must read through the view");
            compared += Compare(seed, viewed, queried, guards);
        }, iter: 60, threads: 1);

        TestContext.Current.TestOutputHelper?.WriteLine($"60 workloads, {compared} decisions compared; guards that refused: {string.Join(", ", guards.Order(StringComparer.Ordinal))}");
        compared.Should().BeGreaterThan(0);
        guards.Should().Contain(["breaker", "cooldown", "dedupe", "pending_remediation", "rate_limited"]);
    }

    [Fact]
    public async Task BatchedReads_OnSqlite_DecideAsPerDecisionQueriesOnMemory()
    {
        var compared = 0;
        var guards = new HashSet<string>(StringComparer.Ordinal);
        await Gen.Int[0, 1_000_000].SampleAsync(async seed =>
        {
            var (viewed, queried, _) = await RunBothAsync(seed, sqlite: true);
            compared += Compare(seed, viewed, queried, guards);
        }, iter: 6, threads: 1);

        compared.Should().BeGreaterThan(0);
    }

    [Fact]
    public async Task ReadTargets_Sqlite_EqualsOneQueryPerTarget()
    {
        await Gen.Int[0, 1_000_000].SampleAsync(async seed =>
        {
            var (workload, decisions) = await DecisionsAsync(seed);
            var clock = RuleFiles.Clock();
            var path = Path.Combine(_temp.Path, $"targets-{seed}.db");
            await using var store = new SqliteAuditStore(path, clock);
            await store.InitializeAsync(Ct);
            await WriteTrailAsync(store, clock, new Random(seed), decisions);
            var targets = decisions.Where(d => d.Identity is not null && d.Action is not null)
                .Select(d => new AuditTarget(d.Identity!.Provider.Name(), d.Identity.Id, d.Action!.Name)).Distinct().Take(new Random(seed).Next(1, 40)).ToList();
            var one = await store.ReadTargetsAsync(targets, Ct);
            var each = await ((IAuditStore)new PerDecisionStore(store)).ReadTargetsAsync(targets, Ct);
            one.Select(r => r.Sequence).Should().Equal(each.Select(r => r.Sequence), $"seed {seed}, workload of {workload.Rules.Count} rules");
        }, iter: 6, threads: 1);
    }

    private static int Compare(int seed, IReadOnlyList<AuditRecord> viewed, IReadOnlyList<AuditRecord> queried, HashSet<string> guards)
    {
        // The guard phase writes in decision order; outcome rows of one batch are written as the actions end, in any order.
        static string GuardRow(AuditRecord r) => $"#{r.Sequence} {r.RecordedAt:O} {r.Entry.Status.Name()} {r.Entry.FindingId} {r.Entry.RuleId} {r.Entry.Action} {r.Entry.IdentityId} {r.Entry.Guard}: {r.Entry.Reason}";
        static string Outcome(AuditRecord r) => $"{r.Entry.IntentSequence} {r.Entry.Status.Name()}";
        var a = viewed.Where(r => !r.Entry.Status.IsOutcome()).Select(GuardRow).ToList();
        var b = queried.Where(r => !r.Entry.Status.IsOutcome()).Select(GuardRow).ToList();
        if (!a.SequenceEqual(b))
        {
            var first = Enumerable.Range(0, Math.Max(a.Count, b.Count)).First(i => i >= a.Count || i >= b.Count || a[i] != b[i]);
            throw new InvalidOperationException($"seed {seed}: the rows differ first at {first}:\n view:    {(first < a.Count ? a[first] : "(none)")}\n queries: {(first < b.Count ? b[first] : "(none)")}");
        }

        viewed.Where(r => r.Entry.Status.IsOutcome()).Select(Outcome).Order(StringComparer.Ordinal)
            .Should().Equal(queried.Where(r => r.Entry.Status.IsOutcome()).Select(Outcome).Order(StringComparer.Ordinal), $"seed {seed}");
        foreach (var row in viewed.Where(r => r.Entry.Guard is not null)) guards.Add(row.Entry.Guard!);
        return a.Count;
    }

    /// <summary>The same generated run twice: through the batch's view, and on a copy of the trail through per-decision queries.</summary>
    private async Task<(IReadOnlyList<AuditRecord> Viewed, IReadOnlyList<AuditRecord> Queried, int Views)> RunBothAsync(int seed, bool sqlite)
    {
        var (viewedRows, views) = await RunAsync(seed, sqlite ? Side.Sqlite : Side.View);
        var (queriedRows, _) = await RunAsync(seed, Side.Queries);
        return (viewedRows, queriedRows, views);
    }

    private enum Side
    {
        View,
        Sqlite,
        Queries,
    }

    private async Task<(IReadOnlyList<AuditRecord> Rows, int Views)> RunAsync(int seed, Side side)
    {
        var random = new Random(seed);
        var clock = RuleFiles.Clock();
        var workload = PlanWorkload.Generate(seed, clock.GetUtcNow());
        var folder = Path.Combine(_temp.Path, $"{seed}-{side}");
        Directory.CreateDirectory(folder);
        var (options, rules, findings, snapshotFile) = await LoadAsync(workload, folder, random);
        var (_, decisions) = await DecisionsAsync(seed);

        // The trail's history ends at the clock's start; the run begins then.
        var historyClock = new FakeTimeProvider(clock.GetUtcNow() - TimeSpan.FromHours(26));
        IAuditStore store;
        MemoryAuditStore? memory = null;
        SqliteAuditStore? file = null;
        if (side == Side.Sqlite)
        {
            file = new SqliteAuditStore(Path.Combine(folder, "respond.db"), historyClock);
            await file.InitializeAsync(Ct);
            await WriteTrailAsync(file, historyClock, new Random(seed + 1), decisions);
            historyClock.SetUtcNow(clock.GetUtcNow());
            store = file;
        }
        else
        {
            var history = new MemoryAuditStore(historyClock);
            await WriteTrailAsync(history, historyClock, new Random(seed + 1), decisions);
            memory = new MemoryAuditStore(clock);
            memory.Seed(history.Rows);
            store = side == Side.View ? memory : new PerDecisionStore(memory);
        }

        var seeded = (await store.ReadAsync(new AuditQuery(), Ct)).Count;
        var dryRun = random.Next(5) == 0;
        var steps = new Random(seed + 2);
        var views = 0;
        using var directory = LocalDirectory.Open(snapshotFile, Path.Combine(folder, "state", "directory.json"), clock, options.Privileged);
        var run = new RunContext("run-1", options, store, directory.Connectors(), side == Side.Sqlite ? historyClock : clock, dryRun, "tests", "host", "test");
        var runClock = side == Side.Sqlite ? historyClock : clock;
        using var executor = new Executor(run, guardBatchSize: 1 + steps.Next(64))
        {
            AfterGuards = d =>
            {
                // Time moves between decisions (0-20 s), so rows leave the windows in the middle of a batch.
                runClock.Advance(TimeSpan.FromMilliseconds(steps.Next(0, 20_000)));
                if (run.View is not null) views++;
                return d;
            },
        };
        await ResponseRun.DecideAsync(rules, findings, run, executor, (_, _) => ValueTask.CompletedTask, null, Ct);
        var rows = (await store.ReadAsync(new AuditQuery { AfterSequence = seeded }, Ct)).ToList();
        if (file is not null) await file.DisposeAsync();
        return (rows, views);
    }

    private static async Task<(EngineOptions Options, RuleSet Rules, IReadOnlyList<Finding> Findings, string SnapshotFile)> LoadAsync(PlanWorkload workload, string folder, Random random)
    {
        var snapshotFile = Path.Combine(folder, "directory.json");
        await File.WriteAllTextAsync(snapshotFile, workload.SnapshotJson, Ct);
        var configFile = Path.Combine(folder, "respond.yaml");
        var dedupe = random.Next(3) switch { 0 => "  dedupe: { window: 0s }\n", 1 => "  dedupe: { window: 2h }\n", _ => "" };
        await File.WriteAllTextAsync(configFile, workload.GuardsYaml + dedupe, Ct);
        var options = ConfigLoader.Load(configFile).Options ?? throw new InvalidOperationException("the generated configuration does not load");
        var rules = RuleFiles.Load([.. workload.Rules]).RuleSet ?? throw new InvalidOperationException("the generated rules do not load");
        var findings = FindingReader.ReadText(workload.FindingsNdjson, "gen.ndjson").Findings;
        return (options, rules, findings, snapshotFile);
    }

    /// <summary>The workload's decisions as a plan makes them (their accounts, actions and keys are what the trail is made of).</summary>
    private async Task<(PlanWorkload Workload, IReadOnlyList<Decision> Decisions)> DecisionsAsync(int seed)
    {
        var clock = RuleFiles.Clock();
        var workload = PlanWorkload.Generate(seed, clock.GetUtcNow());
        var folder = Path.Combine(_temp.Path, $"{seed}-plan-{Guid.NewGuid():N}");
        Directory.CreateDirectory(folder);
        var (options, rules, findings, snapshotFile) = await LoadAsync(workload, folder, new Random(seed));
        var snapshot = SnapshotReader.ReadFile(snapshotFile, options.Privileged).Snapshot ?? throw new InvalidOperationException("the generated snapshot does not load");
        var plan = await PlanRun.PlanAsync(rules, findings, snapshot, options, new PlanSettings(), clock, Ct);
        return (workload, [.. plan.Decisions.Where(d => d.Identity is not null && d.Action is not null)]);
    }

    /// <summary>
    /// A history of intents on the decisions' accounts (their keys, rules, parameters, or another rule's), each left open or
    /// closed succeeded, noop, failed or timed out, some dry-run, some undo, some of this run's id, with refusals and
    /// breaker events between; times over the last 26 hours, clustered at the edges of the 1 h and 2 h and 24 h windows.
    /// </summary>
    private static async Task WriteTrailAsync(IAuditStore store, FakeTimeProvider clock, Random random, IReadOnlyList<Decision> decisions)
    {
        if (decisions.Count == 0) return;
        var end = clock.GetUtcNow() + TimeSpan.FromHours(26);
        TimeSpan[] edges = [TimeSpan.FromHours(1), TimeSpan.FromHours(2), TimeSpan.FromHours(24)];
        var events = new List<(DateTimeOffset At, int Order, Func<long?, AuditEntry> Entry, int Intent)>();
        var count = random.Next(0, 120);
        string[] runs = ["hist-1", "hist-2", "run-1"];
        AuditStatus[] outcomes = [AuditStatus.Succeeded, AuditStatus.Noop, AuditStatus.Failed, AuditStatus.TimedOut];
        for (var i = 0; i < count; i++)
        {
            var d = decisions[random.Next(decisions.Count)];
            var other = decisions[random.Next(decisions.Count)];
            var at = random.Next(4) == 0
                ? end - TimeSpan.FromMinutes(random.Next(0, 26 * 60))
                : end - edges[random.Next(edges.Length)] + TimeSpan.FromMilliseconds(random.Next(-120_000, 1_200_000));
            if (at > end) at = end;
            var undo = random.Next(12) == 0;
            var key = IdempotencyKey.For(d);
            var intent = new AuditEntry
            {
                RunId = runs[random.Next(runs.Length)], Host = "h", EngineVersion = "0", Actor = "gen", Status = AuditStatus.Intended,
                DryRun = random.Next(8) == 0,
                IdempotencyKey = undo ? "undo:" + key : key,
                RuleId = random.Next(5) == 0 ? other.Rule.Id : d.Rule.Id,
                FindingId = $"hist-{i}", FindingSource = "gen",
                Provider = d.Identity!.Provider.Name(), IdentityId = d.Identity.Id, IdentityName = d.Identity.Display,
                Action = undo ? "undo:" + d.Action!.Name : d.Action!.Name,
                Parameters = random.Next(6) == 0 ? other.Parameters.Canonical : d.Parameters.Canonical,
                Destructive = d.Action.Destructive, Verdict = "execute",
            };
            var index = events.Count;
            events.Add((at, 0, _ => intent, -1));
            var closing = random.Next(6);
            if (closing < outcomes.Length)
            {
                var status = outcomes[closing];
                var closedAt = at + TimeSpan.FromMilliseconds(random.Next(0, 30_000));
                events.Add((closedAt > end ? end : closedAt, 1, seq => intent with { Status = status, IntentSequence = seq, Guard = random.Next(4) == 0 ? "reconciler" : null }, index));
            }

            switch (random.Next(20))
            {
                case 0:
                    events.Add((at, 2, _ => intent with { Status = AuditStatus.Skipped, Verdict = "skip", Guard = "dedupe", Reason = "gen" }, -1));
                    break;
                case 1:
                    events.Add((at, 2, _ => new AuditEntry { RunId = "hist-1", Host = "h", EngineVersion = "0", Actor = "gen", Status = AuditStatus.BreakerOpened, Guard = "breaker", Reason = "gen" }, -1));
                    break;
                case 2:
                    events.Add((at, 2, _ => new AuditEntry { RunId = "op", Host = "h", EngineVersion = "0", Actor = "gen", Status = AuditStatus.BreakerRearmed, Reason = "gen" }, -1));
                    break;
            }
        }

        var sequences = new long?[events.Count];
        foreach (var (e, i) in events.Select((e, i) => (e, i)).OrderBy(x => x.e.At).ThenBy(x => x.e.Order).ThenBy(x => x.i))
        {
            if (e.At > clock.GetUtcNow()) clock.SetUtcNow(e.At);
            var intentSequence = e.Intent >= 0 ? sequences[e.Intent] : null;
            if (e.Intent >= 0 && intentSequence is null) continue; // its intent sorted after it: leave it open
            sequences[i] = (await store.AppendAsync(e.Entry(intentSequence), Ct)).Sequence;
        }

        clock.SetUtcNow(end);
    }

    /// <summary>A store that does not let the executor read once per batch: every guard queries it per decision.</summary>
    private sealed class PerDecisionStore(IAuditStore inner) : IAuditStore
    {
        public Task InitializeAsync(CancellationToken cancellationToken) => inner.InitializeAsync(cancellationToken);

        public Task<AuditRecord> AppendAsync(AuditEntry entry, CancellationToken cancellationToken) => inner.AppendAsync(entry, cancellationToken);

        public Task<IReadOnlyList<AuditRecord>> AppendManyAsync(IReadOnlyList<AuditEntry> entries, CancellationToken cancellationToken) => inner.AppendManyAsync(entries, cancellationToken);

        public Task<IReadOnlyList<AuditRecord>> ReadAsync(AuditQuery query, CancellationToken cancellationToken) => inner.ReadAsync(query, cancellationToken);

        public Task<long> CountAsync(AuditQuery query, CancellationToken cancellationToken) => inner.CountAsync(query, cancellationToken);

        public Task<IReadOnlyList<AuditRecord>> OpenIntentsAsync(CancellationToken cancellationToken) => inner.OpenIntentsAsync(cancellationToken);

        public Task<IAsyncDisposable> LockAsync(string name, TimeSpan timeout, CancellationToken cancellationToken) => inner.LockAsync(name, timeout, cancellationToken);

        public Task<ChainVerification> VerifyAsync(CancellationToken cancellationToken) => inner.VerifyAsync(cancellationToken);

        public ValueTask DisposeAsync() => ValueTask.CompletedTask;
    }
}
