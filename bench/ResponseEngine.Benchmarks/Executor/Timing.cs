using System.Collections.Concurrent;
using System.Diagnostics;
using ResponseEngine.Audit;
using ResponseEngine.Execution;
using ResponseEngine.Findings;
using ResponseEngine.Guards;
using ResponseEngine.Identities;
using ResponseEngine.Planning;

namespace ResponseEngine.Benchmarks.Executor;

/// <summary>Call counts and wall time per named operation (thread-safe); the bench's stand-in for a profiler.</summary>
public sealed class Timings
{
    private readonly ConcurrentDictionary<string, (long Calls, long Ticks)> _totals = new(StringComparer.Ordinal);

    public async Task<T> TimeAsync<T>(string name, Func<Task<T>> call)
    {
        var started = Stopwatch.GetTimestamp();
        try
        {
            return await call();
        }
        finally
        {
            Add(name, Stopwatch.GetTimestamp() - started);
        }
    }

    public async Task TimeAsync(string name, Func<Task> call)
    {
        var started = Stopwatch.GetTimestamp();
        try
        {
            await call();
        }
        finally
        {
            Add(name, Stopwatch.GetTimestamp() - started);
        }
    }

    public void Add(string name, long ticks) =>
        _totals.AddOrUpdate(name, (1, ticks), (_, t) => (t.Calls + 1, t.Ticks + ticks));

    public IEnumerable<(string Name, long Calls, double TotalMs, double MeanMs)> Rows() =>
        _totals.OrderByDescending(t => t.Value.Ticks)
            .Select(t => (t.Key, t.Value.Calls, t.Value.Ticks * 1000.0 / Stopwatch.Frequency, t.Value.Ticks * 1000.0 / Stopwatch.Frequency / t.Value.Calls));
}

/// <summary>Times every call into the wrapped audit store.</summary>
public sealed class TimedAuditStore(IAuditStore inner, Timings timings) : IAuditStore
{
    public Task InitializeAsync(CancellationToken cancellationToken) => timings.TimeAsync("store.Initialize", () => inner.InitializeAsync(cancellationToken));

    public Task<AuditRecord> AppendAsync(AuditEntry entry, CancellationToken cancellationToken) =>
        timings.TimeAsync("store.Append", () => inner.AppendAsync(entry, cancellationToken));

    public Task<IReadOnlyList<AuditRecord>> AppendManyAsync(IReadOnlyList<AuditEntry> entries, CancellationToken cancellationToken) =>
        timings.TimeAsync("store.AppendMany", () => inner.AppendManyAsync(entries, cancellationToken));

    public Task<IReadOnlyList<AuditRecord>> ReadAsync(AuditQuery query, CancellationToken cancellationToken) =>
        timings.TimeAsync("store.Read", () => inner.ReadAsync(query, cancellationToken));

    public Task<long> CountAsync(AuditQuery query, CancellationToken cancellationToken) =>
        timings.TimeAsync("store.Count", () => inner.CountAsync(query, cancellationToken));

    public Task<IReadOnlyList<AuditRecord>> OpenIntentsAsync(CancellationToken cancellationToken) =>
        timings.TimeAsync("store.OpenIntents", () => inner.OpenIntentsAsync(cancellationToken));

    public bool ComparesTextOrdinally => inner.ComparesTextOrdinally;

    public Task<IReadOnlyList<AuditRecord>> ReadTargetsAsync(IReadOnlyCollection<AuditTarget> targets, CancellationToken cancellationToken) =>
        timings.TimeAsync("store.ReadTargets", () => inner.ReadTargetsAsync(targets, cancellationToken));

    public Task<IAsyncDisposable> LockAsync(string name, TimeSpan timeout, CancellationToken cancellationToken) =>
        timings.TimeAsync("store.Lock (acquire)", () => inner.LockAsync(name, timeout, cancellationToken));

    public Task<ChainVerification> VerifyAsync(CancellationToken cancellationToken) => inner.VerifyAsync(cancellationToken);

    public ValueTask DisposeAsync() => inner.DisposeAsync();
}

/// <summary>Times every call into the wrapped connector.</summary>
public sealed class TimedConnector(IConnector inner, Timings timings) : IConnector
{
    public Provider Provider => inner.Provider;

    public static IReadOnlyDictionary<Provider, IConnector> Wrap(IReadOnlyDictionary<Provider, IConnector> connectors, Timings timings) =>
        connectors.ToDictionary(c => c.Key, c => (IConnector)new TimedConnector(c.Value, timings));

    public Task<IdentityLookup> ResolveAsync(Subject subject, CancellationToken cancellationToken) =>
        timings.TimeAsync("connector.Resolve", () => inner.ResolveAsync(subject, cancellationToken));

    public Task<TargetState> ReadAsync(ActionRequest request, CancellationToken cancellationToken) =>
        timings.TimeAsync("connector.Read", () => inner.ReadAsync(request, cancellationToken));

    public Task ApplyAsync(ActionRequest request, CancellationToken cancellationToken) =>
        timings.TimeAsync("connector.Apply", () => inner.ApplyAsync(request, cancellationToken));

    public Task MakeDurableAsync(CancellationToken cancellationToken) =>
        timings.TimeAsync("connector.MakeDurable", () => inner.MakeDurableAsync(cancellationToken));

    public Task<bool> VerifyAsync(ActionRequest request, CancellationToken cancellationToken) =>
        timings.TimeAsync("connector.Verify", () => inner.VerifyAsync(request, cancellationToken));

    public Task RestoreAsync(ActionRequest request, string priorState, CancellationToken cancellationToken) =>
        timings.TimeAsync("connector.Restore", () => inner.RestoreAsync(request, priorState, cancellationToken));

    public Task<CriticalSet> CountCriticalAsync(string groupOrRole, CancellationToken cancellationToken) =>
        timings.TimeAsync("connector.CountCritical", () => inner.CountCriticalAsync(groupOrRole, cancellationToken));
}

/// <summary>Times a guard's check (store and connector calls it makes are counted under their own names too).</summary>
public sealed class TimedGuard(IExecutionGuard inner, Timings timings) : IExecutionGuard
{
    public string Name => inner.Name;

    public Task<Decision> CheckAsync(Decision decision, RunContext run, CancellationToken cancellationToken) =>
        timings.TimeAsync("guard." + inner.Name, () => inner.CheckAsync(decision, run, cancellationToken));
}
