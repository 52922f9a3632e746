using Microsoft.Extensions.Logging;
using ResponseEngine.Audit;
using ResponseEngine.Configuration;
using ResponseEngine.Diagnostics;
using ResponseEngine.Inbox;
using ResponseEngine.Service.Operations;
using ResponseEngine.Service.Processing;

namespace ResponseEngine.Service.Pollers;

/// <summary>What one call of a poller brought: findings for the inbox, records it could not use, the cursor after them, and whether more is waiting now.</summary>
public sealed record PollPage(IReadOnlyList<InboxEntry> Entries, string? Cursor, bool More, IReadOnlyList<RejectedRecord>? Rejected = null);

/// <summary>A source the service polls: given the persisted cursor, fetch the next page after it.</summary>
public interface IPoller
{
    /// <summary>The cursor of the very first poll, saved before it runs so that a failing first poll never slides its window; null when the poller needs none.</summary>
    string? Start() => null;

    Task<PollPage> PollAsync(string? cursor, CancellationToken cancellationToken);
}

/// <summary>What /readyz and the metrics say about one poller.</summary>
public sealed record PollerState(DateTimeOffset? LastSuccess, DateTimeOffset? LastError, string? Error, int Failures, DateTimeOffset? BackoffUntil)
{
    public static PollerState Initial { get; } = new(null, null, null, 0, null);
}

/// <summary>
/// Runs the configured pollers (each a Quartz job). Per page, the findings are committed to the inbox and the records
/// that cannot be used to the quarantine first, and the cursor is saved after, so a crash between the two re-reads a
/// page (duplicates are accepted once) and never skips one, and a failure on page N resumes at page N. A source that
/// asks to wait (Retry-After, X-Rate-Limit-Reset) is waited for exactly: a wait of up to a minute within the run, a
/// longer one by not polling before it ends. Any other failure keeps the cursor and backs off (twice the interval per
/// failure, at most an hour). Each poller's failure is its own: it never stops another.
/// </summary>
public sealed class PollerRegistry
{
    private const int MaxPagesPerRun = 50;
    private const int MaxWaitsPerRun = 5;
    private static readonly TimeSpan LongestWaitInRun = TimeSpan.FromMinutes(1);
    private readonly ServeSetup _setup;
    private readonly InboxSignal _signal;
    private readonly ServiceMetrics _metrics;
    private readonly ILogger<PollerRegistry> _log;
    private readonly Dictionary<string, (PollerOptions Options, IPoller Poller)> _pollers = new(StringComparer.Ordinal);
    private readonly Dictionary<string, PollerState> _states = new(StringComparer.Ordinal);
    private readonly Lock _lock = new();

    public PollerRegistry(ServeSetup setup, InboxSignal signal, ServiceMetrics metrics, ILogger<PollerRegistry> log)
    {
        _setup = setup;
        _signal = signal;
        _metrics = metrics;
        _log = log;
        foreach (var options in setup.Options.Serve.Pollers)
        {
            _pollers[options.Name] = (options, Create(options));
            _states[options.Name] = PollerState.Initial;
        }

        metrics.WatchPollers(() => States, setup.Time);
    }

    /// <summary>Each poller's last success, last error and back-off, for /readyz and the metrics.</summary>
    public IReadOnlyDictionary<string, PollerState> States
    {
        get
        {
            lock (_lock) return new Dictionary<string, PollerState>(_states, StringComparer.Ordinal);
        }
    }

    /// <summary>The pollers backing off now (failures in a row, not before), for tests and /readyz.</summary>
    public IReadOnlyDictionary<string, (int Failures, DateTimeOffset NotBefore)> Backoff =>
        States.Where(s => s.Value.BackoffUntil is not null).ToDictionary(s => s.Key, s => (s.Value.Failures, s.Value.BackoffUntil!.Value), StringComparer.Ordinal);

    public static string CursorName(PollerOptions options) => $"{options.Kind}:{options.Name}";

    public async Task RunAsync(string name, CancellationToken cancellationToken)
    {
        if (!_pollers.TryGetValue(name, out var entry)) return;
        var (options, poller) = entry;
        var time = _setup.Time;
        lock (_lock)
        {
            if (_states[name].BackoffUntil is { } until && time.GetUtcNow() < until) return;
        }

        var cursorName = CursorName(options);
        try
        {
            var cursor = await _setup.Inbox.ReadCursorAsync(cursorName, cancellationToken);
            if (cursor is null && poller.Start() is { } start)
            {
                await _setup.Inbox.SaveCursorAsync(cursorName, start, cancellationToken);
                cursor = start;
            }

            var waits = 0;
            for (var page = 0; page < MaxPagesPerRun; page++)
            {
                PollPage result;
                try
                {
                    result = await poller.PollAsync(cursor, cancellationToken);
                }
                catch (PollerThrottledException e) when (e.RetryAfter is { } wait && wait <= LongestWaitInRun && waits < MaxWaitsPerRun)
                {
                    waits++;
                    page--;
                    var delay = Task.Delay(wait, time, cancellationToken);
                    Update(name, s => s with { LastError = time.GetUtcNow(), Error = e.Message, BackoffUntil = time.GetUtcNow() + wait });
                    _log.LogWarning("poller {Poller}: {Message}; waiting {Wait} s as asked, then the same page again", name, e.Message, wait.TotalSeconds);
                    await delay;
                    Update(name, s => s with { BackoffUntil = null });
                    continue;
                }

                await CommitAsync(name, result, cancellationToken);
                if (result.Cursor is not null && result.Cursor != cursor)
                {
                    await _setup.Inbox.SaveCursorAsync(cursorName, result.Cursor, cancellationToken);
                    cursor = result.Cursor;
                }

                if (!result.More) break;
            }

            Update(name, s => s with { LastSuccess = time.GetUtcNow(), Failures = 0, BackoffUntil = null });
        }
        catch (Exception e) when (!(e is OperationCanceledException && cancellationToken.IsCancellationRequested))
        {
            var now = time.GetUtcNow();
            var failures = 0;
            var until = now;
            Update(name, s =>
            {
                failures = s.Failures + 1;
                var exponential = TimeSpan.FromTicks(Math.Min(TimeSpan.FromHours(1).Ticks, options.Every.Ticks * (1L << Math.Min(failures, 10))));
                until = now + (e is PollerThrottledException { RetryAfter: { } asked } ? asked : exponential);
                return s with { LastError = now, Error = e.Message, Failures = failures, BackoffUntil = until };
            });
            if (e is PollerException or PollerThrottledException or HttpRequestException or IOException or AuditWriteException or System.Text.Json.JsonException or OperationCanceledException)
            {
                _log.LogError("poller {Poller} failed ({Failures} in a row): {Message}; cursor kept, next try at {Until:o}", name, failures, e.Message, until);
            }
            else
            {
                _log.LogError(e, "poller {Poller} failed unexpectedly ({Failures} in a row); cursor kept, next try at {Until:o}", name, failures, until);
            }
        }
    }

    /// <summary>The page's findings into the inbox and its unusable records into the quarantine; a record met again is logged and counted once.</summary>
    private async Task CommitAsync(string name, PollPage result, CancellationToken cancellationToken)
    {
        if (result.Entries.Count > 0)
        {
            var added = await _setup.Inbox.AddAsync(result.Entries, cancellationToken);
            var fresh = added.Count(a => a);
            _metrics.Received(name, "accepted", fresh);
            _metrics.Received(name, "duplicate", added.Count - fresh);
            if (fresh > 0)
            {
                _signal.Wake();
                _log.LogInformation("poller {Poller}: {Fresh} new findings ({Duplicates} already in the inbox)", name, fresh, added.Count - fresh);
            }
        }

        if (result.Rejected is not { Count: > 0 } rejected) return;
        IReadOnlyList<bool> kept = _setup.Quarantine is { } quarantine
            ? await quarantine.RejectAsync(rejected, cancellationToken)
            : [.. rejected.Select(_ => true)];
        var newly = 0;
        for (var i = 0; i < rejected.Count; i++)
        {
            if (!kept[i]) continue;
            newly++;
            _log.LogWarning("poller {Poller}: record {Key} rejected and quarantined (respond inbox list --rejected): {Reason}", name, Printable.Escape(rejected[i].Key), Printable.Escape(rejected[i].Reason));
        }

        _metrics.Received(name, "rejected", newly);
    }

    private void Update(string name, Func<PollerState, PollerState> change)
    {
        lock (_lock) _states[name] = change(_states[name]);
    }

    private IPoller Create(PollerOptions options) => options.Kind switch
    {
        "folder" => new FolderPoller(options, _setup.Time),
        "okta_logs" => new OktaLogPoller(options, Http(options), _setup.Time),
        "graph_alerts" => new GraphAlertsPoller(options, Http(options), _setup.Time),
        "graph_risky_users" => new GraphRiskyUsersPoller(options, Http(options), _setup.Time),
        _ => throw new InvalidOperationException($"serve.pollers.{options.Name}: unknown kind '{options.Kind}'"),
    };

    private HttpClient Http(PollerOptions options) =>
        _setup.PollerHttp?.Invoke(options) ?? throw new InvalidOperationException($"serve.pollers.{options.Name}: kind {options.Kind} needs its provider's connection (connectors in respond.yaml)");
}

/// <summary>A source answered with something a poller cannot use (an error status, an unexpected shape).</summary>
public sealed class PollerException : Exception
{
    public PollerException(string message)
        : base(message)
    {
    }

    public PollerException()
    {
    }

    public PollerException(string message, Exception inner)
        : base(message, inner)
    {
    }
}
