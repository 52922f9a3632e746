using System.Diagnostics.Metrics;
using ResponseEngine.Audit;
using ResponseEngine.Execution;
using ResponseEngine.Planning;

namespace ResponseEngine.Service.Operations;

/// <summary>
/// The service's instruments, on one meter that /metrics exports through OpenTelemetry: findings received, decisions by
/// verdict, actions by status, the breaker, rate-limit headroom and the inbox. Gauges read values the workers refresh,
/// so a scrape never queries the database.
/// </summary>
public sealed class ServiceMetrics : IDisposable
{
    public const string MeterName = EngineTelemetry.Name;

    private readonly Meter _meter = new(MeterName);
    private readonly Counter<long> _received;
    private readonly Counter<long> _decisions;
    private readonly Counter<long> _actions;
    private readonly Counter<long> _reloads;
    private long _breakerOpen;
    private long _headroom = -1;
    private long _pending;

    public ServiceMetrics()
    {
        _received = _meter.CreateCounter<long>("respond.findings.received", "{finding}", "Findings offered to the inbox, by origin and result (accepted, duplicate, rejected)");
        _decisions = _meter.CreateCounter<long>("respond.decisions", "{decision}", "Decisions made by the executor, by verdict after the guards");
        _actions = _meter.CreateCounter<long>("respond.actions", "{action}", "Audit outcomes of decisions, by rule, provider, action, status and refusing guard");
        _reloads = _meter.CreateCounter<long>("respond.rules.reloads", "{reload}", "Rule reloads, by result (applied, rejected)");
        _meter.CreateObservableGauge("respond.breaker.open", () => Interlocked.Read(ref _breakerOpen), "{state}", "1 while the blast-radius breaker is open");
        _meter.CreateObservableGauge("respond.rate_limit.headroom", () => Interlocked.Read(ref _headroom), "{action}", "Actions left in the global hourly limit (-1: no global limit)");
        _meter.CreateObservableGauge("respond.inbox.pending", () => Interlocked.Read(ref _pending), "{finding}", "Findings in the inbox not yet processed");
    }

    public void Received(string origin, string result, int count = 1)
    {
        if (count > 0) _received.Add(count, new KeyValuePair<string, object?>("origin", origin), new KeyValuePair<string, object?>("result", result));
    }

    public void Record(IEnumerable<DecisionResult> results)
    {
        foreach (var result in results)
        {
            _decisions.Add(1, new KeyValuePair<string, object?>("verdict", result.Decision.Verdict.Name()));
            var labels = EngineTelemetry.Labels(result.Decision, result.Status);
            labels.Add("guard", result.Decision.Guard ?? "none");
            _actions.Add(1, labels);
        }
    }

    public void Reload(bool applied) => _reloads.Add(1, new KeyValuePair<string, object?>("result", applied ? "applied" : "rejected"));

    public void Breaker(bool open) => Interlocked.Exchange(ref _breakerOpen, open ? 1 : 0);

    public void Headroom(long left) => Interlocked.Exchange(ref _headroom, left);

    public void Pending(long count) => Interlocked.Exchange(ref _pending, count);

    /// <summary>Per-poller gauges read from the registry at scrape time: failures in a row, seconds since the last success, seconds of back-off left.</summary>
    public void WatchPollers(Func<IReadOnlyDictionary<string, Pollers.PollerState>> states, TimeProvider? time = null)
    {
        ArgumentNullException.ThrowIfNull(states);
        var clock = time ?? TimeProvider.System;
        IEnumerable<Measurement<double>> Each(Func<Pollers.PollerState, double?> read) =>
            states().Select(s => (s.Key, Value: read(s.Value))).Where(s => s.Value is not null)
                .Select(s => new Measurement<double>(s.Value!.Value, new KeyValuePair<string, object?>("poller", s.Key)));
        _meter.CreateObservableGauge("respond.poller.failures", () => Each(s => s.Failures), "{failure}", "Failures in a row of each poller (0 after a success)");
        _meter.CreateObservableGauge("respond.poller.last_success_age", () => Each(s => s.LastSuccess is { } t ? (clock.GetUtcNow() - t).TotalSeconds : null), "s", "Seconds since each poller last finished a run");
        _meter.CreateObservableGauge("respond.poller.backoff_remaining", () => Each(s => s.BackoffUntil is { } t ? Math.Max(0, (t - clock.GetUtcNow()).TotalSeconds) : 0), "s", "Seconds until each poller may call its source again");
    }

    public void Dispose() => _meter.Dispose();
}
