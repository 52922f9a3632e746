using Microsoft.Extensions.Logging;
using ResponseEngine.Audit;
using ResponseEngine.Configuration;
using ResponseEngine.Inbox;
using ResponseEngine.Service.Operations;
using ResponseEngine.Service.Processing;

namespace ResponseEngine.Service.Pollers;

/// <summary>What one call of a poller brought: findings for the inbox, the cursor after them, and whether more is waiting now.</summary>
public sealed record PollPage(IReadOnlyList<InboxEntry> Entries, string? Cursor, bool More, int Skipped = 0);

/// <summary>A source the service polls: given the persisted cursor, fetch what came after it.</summary>
public interface IPoller
{
    Task<PollPage> PollAsync(string? cursor, CancellationToken cancellationToken);
}

/// <summary>
/// Runs the configured pollers (each a Quartz job): per page, the findings are committed to the inbox first and the
/// cursor is saved after, so a crash between the two re-reads a page (duplicates are accepted once) and never skips
/// one. A poller whose source fails keeps its cursor and backs off (twice its interval per failure, at most an hour).
/// </summary>
public sealed class PollerRegistry
{
    private const int MaxPagesPerRun = 50;
    private readonly ServeSetup _setup;
    private readonly InboxSignal _signal;
    private readonly ServiceMetrics _metrics;
    private readonly ILogger<PollerRegistry> _log;
    private readonly Dictionary<string, (PollerOptions Options, IPoller Poller)> _pollers = new(StringComparer.Ordinal);
    private readonly Dictionary<string, (int Failures, DateTimeOffset NotBefore)> _backoff = new(StringComparer.Ordinal);
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
        }
    }

    /// <summary>The state of each poller's back-off, for /readyz.</summary>
    public IReadOnlyDictionary<string, (int Failures, DateTimeOffset NotBefore)> Backoff
    {
        get
        {
            lock (_lock) return new Dictionary<string, (int, DateTimeOffset)>(_backoff);
        }
    }

    public static string CursorName(PollerOptions options) => $"{options.Kind}:{options.Name}";

    public async Task RunAsync(string name, CancellationToken cancellationToken)
    {
        if (!_pollers.TryGetValue(name, out var entry)) return;
        var (options, poller) = entry;
        var now = _setup.Time.GetUtcNow();
        lock (_lock)
        {
            if (_backoff.TryGetValue(name, out var b) && now < b.NotBefore) return;
        }

        var cursorName = CursorName(options);
        try
        {
            var cursor = await _setup.Inbox.ReadCursorAsync(cursorName, cancellationToken);
            for (var page = 0; page < MaxPagesPerRun; page++)
            {
                var result = await poller.PollAsync(cursor, cancellationToken);
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

                if (result.Skipped > 0) _metrics.Received(name, "rejected", result.Skipped);
                if (result.Cursor is not null && result.Cursor != cursor)
                {
                    await _setup.Inbox.SaveCursorAsync(cursorName, result.Cursor, cancellationToken);
                    cursor = result.Cursor;
                }

                if (!result.More) break;
            }

            lock (_lock) _backoff.Remove(name);
        }
        catch (Exception e) when (e is PollerException or HttpRequestException or IOException or AuditWriteException or System.Text.Json.JsonException
                                      || (e is OperationCanceledException && !cancellationToken.IsCancellationRequested))
        {
            int failures;
            lock (_lock)
            {
                failures = (_backoff.TryGetValue(name, out var b) ? b.Failures : 0) + 1;
                var wait = TimeSpan.FromTicks(Math.Min(TimeSpan.FromHours(1).Ticks, options.Every.Ticks * (1L << Math.Min(failures, 10))));
                _backoff[name] = (failures, now + wait);
            }

            _log.LogError("poller {Poller} failed ({Failures} in a row): {Message}; cursor kept, backing off", name, failures, e.Message);
        }
    }

    private IPoller Create(PollerOptions options) => options.Kind switch
    {
        "folder" => new FolderPoller(options, _setup.Time),
        "okta_logs" => new OktaLogPoller(options, Http(options), _setup.Time),
        "graph_alerts" => new GraphAlertsPoller(options, Http(options), _setup.Time),
        "graph_risky_users" => new GraphRiskyUsersPoller(options, Http(options)),
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
