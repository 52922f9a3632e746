using ResponseEngine.Audit.Sqlite;
using ResponseEngine.Configuration;
using ResponseEngine.Connectors.Local;
using ResponseEngine.Execution;
using ResponseEngine.Findings;

/// <summary>
/// What `respond run --once` does — reconcile interrupted intents, then resolve, decide, guard, act, audit — on the local
/// directory with SQLite audit, every durable step a tripwire step: the connector's calls, the audit appends, and the
/// local directory's journal steps (a line written, the batch's flush to disk before the outcome rows), so CRASH_AT=N
/// kills the process in the window between a change and its flush as well as everywhere else.
/// </summary>
internal static class LocalRunCrash
{
    public static async Task<int> RunAsync(string dir, TimeProvider time)
    {
        var options = new EngineOptions
        {
            Guards = new GuardOptions { Breaker = new BreakerOptions { Threshold = 10_000 }, RateLimits = new RateLimitOptions { GlobalPerHour = null } },
            ReconcileAfter = TimeSpan.Zero,
        };
        await using var store = new TripwireStore(new SqliteAuditStore(Path.Combine(dir, "respond.db"), time));
        await store.InitializeAsync(CancellationToken.None);
        using var local = LocalDirectory.Open(Path.Combine(dir, "directory.json"), Path.Combine(dir, "state", "directory.json"), time);
        local.OnStep = step => Tripwire.Step("local " + step);
        var connectors = Providers.All.ToDictionary(p => p, p => (IConnector)new TripwireConnector(local.Connector(p)));
        var run = new RunContext(Guid.NewGuid().ToString("N")[..8], options, store, connectors, time, false, "crash-test", Environment.MachineName, "test");

        return await OktaCrashRun.ReconcileThenRunAsync(run, dir, options, time);
    }
}
