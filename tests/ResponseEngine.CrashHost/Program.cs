// A process for crash tests: runs the real executor against SQLite and the local directory, and can be told to
// stop dead (wait to be SIGKILLed) right after a connector has applied an action and before the outcome is written.
//   crashhost run DIR        executes DIR/rules on DIR/findings.ndjson; with CRASH_BLOCK=1 it blocks after the first apply
//   crashhost reconcile DIR  reconciles interrupted intents and prints one line per intent
//   crashhost okta DIR URL   what `respond run --once` does (reconcile, then run) with the real Okta connector against the
//                            org at URL (token in RESPOND_OKTA_API_TOKEN); with CRASH_AT=N it SIGKILLs itself at the
//                            Nth step (a connector call or an audit append, before or after it) — see Tripwire.cs
//   crashhost journal DIR    applies DIR/ops.txt ("action user-id" per line, or "compact") to the local directory in
//                            order, printing "ACK n" once op n returned; with CRASH_AT=N it SIGKILLs itself at the Nth
//                            durable step of the local directory (journal write, flush, compaction)
//   crashhost localrun DIR   what `respond run --once` does on the local directory DIR/directory.json with SQLite audit;
//                            with CRASH_AT=N it SIGKILLs itself at the Nth step (connector call, audit append, journal step)
using ResponseEngine.Actions;
using ResponseEngine.Audit;
using ResponseEngine.Audit.Sqlite;
using ResponseEngine.Configuration;
using ResponseEngine.Connectors.Local;
using ResponseEngine.Execution;
using ResponseEngine.Findings;
using ResponseEngine.Identities;
using ResponseEngine.Policy.Rules;

var mode = args[0];
var dir = args[1];
var time = TimeProvider.System;
if (mode == "okta") return await OktaCrashRun.RunAsync(dir, new Uri(args[2]), time);
if (mode == "journal") return await JournalCrashRun.RunAsync(dir, time);
if (mode == "localrun") return await LocalRunCrash.RunAsync(dir, time);
var options = new EngineOptions
{
    Guards = new GuardOptions { Breaker = new BreakerOptions { Threshold = 10_000 }, RateLimits = new RateLimitOptions { GlobalPerHour = null } },
    ReconcileAfter = TimeSpan.Zero,
};
await using var store = new SqliteAuditStore(Path.Combine(dir, "respond.db"), time);
await store.InitializeAsync(CancellationToken.None);
var local = LocalDirectory.Open(Path.Combine(dir, "directory.json"), Path.Combine(dir, "state", "directory.json"), time);
var block = Environment.GetEnvironmentVariable("CRASH_BLOCK") == "1";
var connectors = Providers.All.ToDictionary(p => p, p => (IConnector)new Recording(local.Connector(p), Path.Combine(dir, "applied.log"), block));
var run = new RunContext(Guid.NewGuid().ToString("N")[..8], options, store, connectors, time, false, "crash-test", Environment.MachineName, "test");

if (mode == "reconcile")
{
    foreach (var item in await new Reconciler(run, ActionCatalogue.Default).ReconcileAsync(TimeSpan.Zero, CancellationToken.None))
    {
        Console.WriteLine($"RECONCILED {item.IntentSequence} {item.Status.Name()} {item.Detail}");
    }

    return 0;
}

var rules = RuleLoader.Default(time).LoadDirectory(Path.Combine(dir, "rules"));
if (rules.RuleSet is null)
{
    Console.Error.WriteLine(string.Join("\n", rules.Diagnostics));
    return 2;
}

var findings = FindingReader.ReadPaths([Path.Combine(dir, "findings.ndjson")]).Findings;
var (_, summary) = await ResponseRun.RunAsync(rules.RuleSet, findings, run, null, CancellationToken.None);
Console.WriteLine($"DONE {string.Join(' ', summary.Results.Select(r => r.Status.Name()))}");
return 0;

/// <summary>Logs every apply to a file (the ground truth of what was done) and optionally blocks after the first one.</summary>
internal sealed class Recording(IConnector inner, string log, bool block) : IConnector
{
    public Provider Provider => inner.Provider;

    public Task<IdentityLookup> ResolveAsync(Subject subject, CancellationToken cancellationToken) => inner.ResolveAsync(subject, cancellationToken);

    public Task<TargetState> ReadAsync(ActionRequest request, CancellationToken cancellationToken) => inner.ReadAsync(request, cancellationToken);

    public async Task ApplyAsync(ActionRequest request, CancellationToken cancellationToken)
    {
        await inner.ApplyAsync(request, cancellationToken);
        await File.AppendAllTextAsync(log, $"{request.Action.Name} {request.Target.Id}\n", CancellationToken.None);
        if (block)
        {
            Console.WriteLine($"APPLIED {request.Action.Name} {request.Target.Id}");
            await Console.Out.FlushAsync(CancellationToken.None);
            await Task.Delay(Timeout.Infinite, CancellationToken.None);
        }
    }

    public Task<bool> VerifyAsync(ActionRequest request, CancellationToken cancellationToken) => inner.VerifyAsync(request, cancellationToken);

    public Task MakeDurableAsync(CancellationToken cancellationToken) => inner.MakeDurableAsync(cancellationToken);

    public Task RestoreAsync(ActionRequest request, string priorState, CancellationToken cancellationToken) => inner.RestoreAsync(request, priorState, cancellationToken);

    public Task<CriticalSet> CountCriticalAsync(string groupOrRole, CancellationToken cancellationToken) => inner.CountCriticalAsync(groupOrRole, cancellationToken);
}
