using System.Diagnostics;
using ResponseEngine.Actions;
using ResponseEngine.Audit;
using ResponseEngine.Audit.Sqlite;
using ResponseEngine.Configuration;
using ResponseEngine.Connectors.Okta;
using ResponseEngine.Execution;
using ResponseEngine.Findings;
using ResponseEngine.Identities;
using ResponseEngine.Policy.Rules;

/// <summary>
/// Counts the steps of a run — every connector call and every audit append, before and after each — and SIGKILLs this
/// process at step CRASH_AT. With one provider and one action at a time the steps come in the same order for the same
/// input, so a seed that picks N reproduces the same kill point: no sleeping, no timing.
/// </summary>
internal static class Tripwire
{
    private static readonly long KillAt = long.TryParse(Environment.GetEnvironmentVariable("CRASH_AT"), out var n) ? n : 0;
    private static long _steps;

    public static void Step(string what)
    {
        var step = Interlocked.Increment(ref _steps);
        if (step != KillAt) return;

        // The parent reads this line after the process is gone, to count where the kills fell.
        Console.Out.WriteLine($"KILL {step} {what}");
        Console.Out.Flush();
        Process.GetCurrentProcess().Kill(); // SIGKILL on Unix: no finally blocks, no flush, no outcome row
        Environment.FailFast("unreachable: the process was killed");
    }

    public static long Steps => Interlocked.Read(ref _steps);
}

/// <summary>A connector whose every call is a step, before and after.</summary>
internal sealed class TripwireConnector(IConnector inner) : IConnector
{
    public Provider Provider => inner.Provider;

    public Task<IdentityLookup> ResolveAsync(Subject subject, CancellationToken cancellationToken) => Around("resolve", () => inner.ResolveAsync(subject, cancellationToken));

    public Task<TargetState> ReadAsync(ActionRequest request, CancellationToken cancellationToken) => Around("read " + request.Action.Name, () => inner.ReadAsync(request, cancellationToken));

    public Task ApplyAsync(ActionRequest request, CancellationToken cancellationToken) =>
        Around("apply " + request.Action.Name, async () =>
        {
            await inner.ApplyAsync(request, cancellationToken);
            return true;
        });

    public Task<bool> VerifyAsync(ActionRequest request, CancellationToken cancellationToken) => Around("verify " + request.Action.Name, () => inner.VerifyAsync(request, cancellationToken));

    public Task MakeDurableAsync(CancellationToken cancellationToken) => inner.MakeDurableAsync(cancellationToken);

    public Task RestoreAsync(ActionRequest request, string priorState, CancellationToken cancellationToken) => inner.RestoreAsync(request, priorState, cancellationToken);

    public Task<CriticalSet> CountCriticalAsync(string groupOrRole, CancellationToken cancellationToken) => Around("count", () => inner.CountCriticalAsync(groupOrRole, cancellationToken));

    private static async Task<T> Around<T>(string what, Func<Task<T>> call)
    {
        Tripwire.Step("before " + what);
        var result = await call();
        Tripwire.Step("after " + what);
        return result;
    }
}

/// <summary>An audit store whose every append is a step, before and after (after = the row is durable).</summary>
internal sealed class TripwireStore(IAuditStore inner) : IAuditStore
{
    public Task InitializeAsync(CancellationToken cancellationToken) => inner.InitializeAsync(cancellationToken);

    public async Task<AuditRecord> AppendAsync(AuditEntry entry, CancellationToken cancellationToken)
    {
        Tripwire.Step($"before append {entry.Status.Name()} {entry.Action}");
        var record = await inner.AppendAsync(entry, cancellationToken);
        Tripwire.Step($"after append {entry.Status.Name()} {entry.Action}");
        return record;
    }

    /// <summary>One step before and one after the whole transaction: a kill between them leaves none of its rows or all of them.</summary>
    public async Task<IReadOnlyList<AuditRecord>> AppendManyAsync(IReadOnlyList<AuditEntry> entries, CancellationToken cancellationToken)
    {
        var what = string.Join(',', entries.Select(e => $"{e.Status.Name()} {e.Action}"));
        Tripwire.Step($"before append-many {what}");
        var records = await inner.AppendManyAsync(entries, cancellationToken);
        Tripwire.Step($"after append-many {what}");
        return records;
    }

    public Task<IReadOnlyList<AuditRecord>> ReadAsync(AuditQuery query, CancellationToken cancellationToken) => inner.ReadAsync(query, cancellationToken);

    public Task<long> CountAsync(AuditQuery query, CancellationToken cancellationToken) => inner.CountAsync(query, cancellationToken);

    public Task<IReadOnlyList<AuditRecord>> OpenIntentsAsync(CancellationToken cancellationToken) => inner.OpenIntentsAsync(cancellationToken);

    public Task<IAsyncDisposable> LockAsync(string name, TimeSpan timeout, CancellationToken cancellationToken) => inner.LockAsync(name, timeout, cancellationToken);

    public Task<ChainVerification> VerifyAsync(CancellationToken cancellationToken) => inner.VerifyAsync(cancellationToken);

    public ValueTask DisposeAsync() => inner.DisposeAsync();
}

/// <summary>What `respond run --once` does — reconcile interrupted intents, then resolve, decide, guard, act, audit — on Okta.</summary>
internal static class OktaCrashRun
{
    public static async Task<int> RunAsync(string dir, Uri baseUrl, TimeProvider time)
    {
        var options = new EngineOptions
        {
            // Guards stay on; the limits are set above what 200 actions need, so that every decision can end done.
            Guards = new GuardOptions { Breaker = new BreakerOptions { Threshold = 10_000 }, RateLimits = new RateLimitOptions { GlobalPerHour = null } },
            ReconcileAfter = TimeSpan.Zero,
        };
        var oktaOptions = new OktaOptions
        {
            BaseUrl = baseUrl,
            ApiToken = Environment.GetEnvironmentVariable("RESPOND_OKTA_API_TOKEN"),
            MaxRetries = 2,
        };
        using var http = new HttpClient { Timeout = Timeout.InfiniteTimeSpan };
        using var okta = OktaConnector.Create(oktaOptions, PrivilegedPolicy.Default, time, http);
        await using var store = new TripwireStore(new SqliteAuditStore(Path.Combine(dir, "respond.db"), time));
        await store.InitializeAsync(CancellationToken.None);
        var connectors = new Dictionary<Provider, IConnector> { [Provider.Okta] = new TripwireConnector(okta) };
        var run = new RunContext(Guid.NewGuid().ToString("N")[..8], options, store, connectors, time, false, "crash-test", Environment.MachineName, "test");

        return await ReconcileThenRunAsync(run, dir, options, time);
    }

    /// <summary>Reconciles interrupted intents, then resolves, decides, guards and acts on DIR/rules and DIR/findings.ndjson; prints DONE with the step count and statuses.</summary>
    public static async Task<int> ReconcileThenRunAsync(RunContext run, string dir, EngineOptions options, TimeProvider time)
    {
        var reconciled = await new Reconciler(run, ActionCatalogue.Default).ReconcileAsync(options.ReconcileAfter, CancellationToken.None);
        foreach (var item in reconciled) Console.WriteLine($"RECONCILED {item.IntentSequence} {item.Status.Name()}");

        var rules = RuleLoader.Default(time).LoadDirectory(Path.Combine(dir, "rules"));
        if (rules.RuleSet is null)
        {
            Console.Error.WriteLine(string.Join("\n", rules.Diagnostics));
            return 2;
        }

        var findings = FindingReader.ReadPaths([Path.Combine(dir, "findings.ndjson")]);
        if (findings.HasErrors)
        {
            Console.Error.WriteLine(string.Join("\n", findings.Diagnostics));
            return 2;
        }

        var (_, summary) = await ResponseRun.RunAsync(rules.RuleSet, findings.Findings, run, null, CancellationToken.None);
        Console.WriteLine($"DONE {Tripwire.Steps} " + string.Join(' ', summary.Results.GroupBy(r => r.Status).OrderBy(g => g.Key).Select(g => $"{g.Key.Name()}={g.Count()}")));
        return 0;
    }
}
