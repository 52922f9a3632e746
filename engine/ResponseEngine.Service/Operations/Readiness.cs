using ResponseEngine.Audit;
using ResponseEngine.Execution;
using ResponseEngine.Findings;
using ResponseEngine.Service.Processing;
using ResponseEngine.Service.Rules;

namespace ResponseEngine.Service.Operations;

/// <summary>
/// /readyz: ready when a rule set is loaded, the audit store answers and every connector answers a lookup. A reload
/// that was refused does not make the service unready (the last good set runs) but is reported with its problems.
/// Connector probes are cached briefly so a busy probe does not load the directories. Each poller's last success, last
/// error and back-off are reported; a failing source does not make the service unready (the webhook and the other
/// pollers go on), it is reported so that it is seen.
/// </summary>
public sealed class Readiness(ServeSetup setup, RuleSetHolder rules, StoreHealth health, Pollers.PollerRegistry pollers) : IDisposable
{
    private static readonly TimeSpan ProbeCache = TimeSpan.FromSeconds(10);
    private readonly SemaphoreSlim _probe = new(1, 1);
    private (DateTimeOffset At, Dictionary<string, object> Result)? _connectors;

    public void Dispose() => _probe.Dispose();

    public async Task<(bool Ready, object Report)> CheckAsync(CancellationToken cancellationToken)
    {
        var state = rules.State;
        var (auditOk, auditError) = await ProbeStoreAsync(cancellationToken);
        var connectors = await ProbeConnectorsAsync(cancellationToken);
        var connectorsOk = connectors.Values.All(v => v is ConnectorProbe { Reachable: true });
        var ready = state.Rules is not null && auditOk && connectorsOk;
        var report = new
        {
            ready,
            instance = setup.Instance,
            rules = new
            {
                loaded = state.Rules is not null,
                count = state.Count,
                fingerprint = state.Fingerprint,
                commit = state.GitCommit,
                loaded_at = state.LoadedAt,
                last_reload_failed = state.LastFailure is not null,
                last_reload_failure = state.LastFailure is { } f ? new { at = f.At, problems = f.Problems } : null,
            },
            audit = new { reachable = auditOk, error = auditError, execution = auditOk ? "running" : "stopped (fail closed)" },
            connectors,
            pollers = pollers.States.ToDictionary(p => p.Key, p => new
            {
                healthy = p.Value.Failures == 0,
                last_success = p.Value.LastSuccess,
                last_error_at = p.Value.LastError,
                last_error = p.Value.Error,
                failures = p.Value.Failures,
                backoff_until = p.Value.BackoffUntil,
            }, StringComparer.Ordinal),
        };
        return (ready, report);
    }

    private async Task<(bool, string?)> ProbeStoreAsync(CancellationToken cancellationToken)
    {
        try
        {
            await setup.Store.ReadAsync(new AuditQuery { Descending = true, Limit = 1 }, cancellationToken);
            await setup.Inbox.CountAsync(cancellationToken);
            return health.State is { Reachable: false, Error: { } error } ? (false, error) : (true, null);
        }
        catch (Exception e) when (StoreHealth.IsStoreFault(e))
        {
            return (false, e.Message);
        }
    }

    private async Task<Dictionary<string, object>> ProbeConnectorsAsync(CancellationToken cancellationToken)
    {
        await _probe.WaitAsync(cancellationToken);
        try
        {
            if (_connectors is { } cached && setup.Time.GetUtcNow() - cached.At < ProbeCache) return cached.Result;
            var checks = await ConnectorCheck.CheckAllAsync(setup.Connectors, TimeSpan.FromSeconds(5), setup.Time, cancellationToken);
            var result = checks.ToDictionary(c => c.Provider.Name(), c => (object)new ConnectorProbe(c.Reachable, c.Kind, c.Problem), StringComparer.Ordinal);
            _connectors = (setup.Time.GetUtcNow(), result);
            return result;
        }
        finally
        {
            _probe.Release();
        }
    }

    private sealed record ConnectorProbe(bool Reachable, string Kind, string? Error);
}
