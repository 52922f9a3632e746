using ResponseEngine.Audit;

namespace ResponseEngine.Execution;

/// <summary>
/// What the guards of one guard batch read from the trail, read once per batch instead of once per decision: the open
/// intents (lockout protection), every intent and outcome on the batch's accounts and actions (dedupe, pending
/// remediation, cooldown: one <see cref="IAuditStore.ReadTargetsAsync"/>), the last breaker event, and the intents counted
/// in a sliding window (rate limits, the breaker: one count per scope and a slice of rows at the window's start, so a
/// count at a later instant is exact without another query).
/// <para>
/// Why this answers as the per-decision queries do. The executor holds the store-wide guard lock for the whole batch, and
/// every intent is written under that lock (runs, serve, <c>respond undo</c>), so no other process adds an intent, a
/// breaker opening or a refusal while the view is in use; rows this batch writes early (the breaker opening flushes the
/// staged rows) call <see cref="Invalidate"/>, and the next read goes to the store again. What another process can still
/// write meanwhile is an outcome row closing an intent that was open when the view was read, or a breaker re-arm; with
/// the view a guard then still sees the intent open (pending, in flight, an effect within a cooldown) or the breaker open,
/// which refuses or holds where a fresh query might have passed: never the other way round. The view is only used on a
/// store whose filters compare text ordinally (<see cref="IAuditStore.ComparesTextOrdinally"/>), so filtering its rows in
/// memory gives what the store's query would.
/// </para>
/// </summary>
internal sealed class GuardView(IAuditStore store, IReadOnlyCollection<AuditTarget> targets)
{
    /// <summary>How far past a window's start the rows are read: counts at instants within it need no query.</summary>
    internal static readonly TimeSpan Slice = TimeSpan.FromSeconds(60);

    private static readonly AuditStatus[] Intended = [AuditStatus.Intended];
    private static readonly AuditStatus[] BreakerEvents = [AuditStatus.BreakerOpened, AuditStatus.BreakerRearmed];

    private readonly HashSet<AuditTarget> _targets = [.. targets];
    private IReadOnlyList<AuditRecord>? _openIntents;
    private Dictionary<AuditTarget, List<AuditRecord>>? _targetRows;
    private (bool Read, AuditRecord? Event) _breaker;
    private readonly List<Window> _windows = [];

    /// <summary>Queries this view made (for tests and the profile).</summary>
    public int Queries { get; private set; }

    /// <summary>Forgets everything read: the batch wrote rows, the next read asks the store.</summary>
    public void Invalidate()
    {
        _openIntents = null;
        _targetRows = null;
        _breaker = default;
        _windows.Clear();
    }

    /// <summary>As <see cref="IAuditStore.OpenIntentsAsync"/> at the time of the first call.</summary>
    public async Task<IReadOnlyList<AuditRecord>> OpenIntentsAsync(CancellationToken cancellationToken)
    {
        if (_openIntents is null)
        {
            Queries++;
            _openIntents = await store.OpenIntentsAsync(cancellationToken).ConfigureAwait(false);
        }

        return _openIntents;
    }

    /// <summary>
    /// Every non-dry-run intent and outcome on this account and action, in sequence order; null when it is not one of the
    /// batch's targets (the caller then queries the store itself).
    /// </summary>
    public async Task<IReadOnlyList<AuditRecord>?> OnTargetAsync(AuditTarget target, CancellationToken cancellationToken)
    {
        if (!_targets.Contains(target)) return null;
        if (_targetRows is null)
        {
            Queries++;
            var rows = await store.ReadTargetsAsync(_targets, cancellationToken).ConfigureAwait(false);
            _targetRows = [];
            foreach (var row in rows.OrderBy(r => r.Sequence))
            {
                var key = new AuditTarget(row.Entry.Provider!, row.Entry.IdentityId!, row.Entry.Action!);
                if (!_targetRows.TryGetValue(key, out var list)) _targetRows[key] = list = [];
                list.Add(row);
            }
        }

        return _targetRows.TryGetValue(target, out var found) ? found : [];
    }

    /// <summary>The latest breaker event (opened or re-armed), as <c>BreakerGuard.StateAsync</c> reads it.</summary>
    public async Task<AuditRecord?> LastBreakerEventAsync(CancellationToken cancellationToken)
    {
        if (!_breaker.Read)
        {
            Queries++;
            var last = await store.ReadAsync(new AuditQuery { Statuses = BreakerEvents, Descending = true, Limit = 1, DryRun = false }, cancellationToken).ConfigureAwait(false);
            _breaker = (true, last.Count == 0 ? null : last[0]);
        }

        return _breaker.Event;
    }

    /// <summary>
    /// The number of non-dry-run intents recorded at or after <paramref name="since"/> within the scope (rule, action,
    /// provider, destructive; each null for any), as <see cref="IAuditStore.CountAsync"/> counts them.
    /// </summary>
    public async Task<long> CountIntentsAsync(string? ruleId, string? action, string? provider, bool? destructive, DateTimeOffset since, CancellationToken cancellationToken)
    {
        Window? window = null;
        foreach (var w in _windows)
        {
            if (w.Start <= since && since < w.Start + Slice)
            {
                window = w;
                break;
            }
        }

        if (window is null)
        {
            Queries++;
            var slice = await store.ReadAsync(new AuditQuery { Since = since, Until = since + Slice, Statuses = Intended, DryRun = false }, cancellationToken).ConfigureAwait(false);
            window = new Window(since, slice);
            _windows.Add(window);
        }

        // No intent at all from the window's start (as a plan's empty scratch store has): none in any scope either. The
        // count of every scope is read once per window, and the global rate limit asks for it anyway.
        if (window.Rows.Count == 0 && await CountAtStartAsync(window, (null, null, null, null), cancellationToken).ConfigureAwait(false) == 0) return 0;
        var atStart = await CountAtStartAsync(window, (ruleId, action, provider, destructive), cancellationToken).ConfigureAwait(false);

        // The rows between the window's start and this instant are no longer in the window.
        var expired = 0;
        foreach (var row in window.Rows)
        {
            if (row.RecordedAt >= since) break;
            var e = row.Entry;
            if ((ruleId is null || e.RuleId == ruleId) && (action is null || e.Action == action) && (provider is null || e.Provider == provider)
                && (destructive is null || e.Destructive == destructive))
            {
                expired++;
            }
        }

        return atStart - expired;
    }

    /// <summary>The intents in a scope from the window's start, counted by the store once per window and scope.</summary>
    private async ValueTask<long> CountAtStartAsync(Window window, (string? RuleId, string? Action, string? Provider, bool? Destructive) scope, CancellationToken cancellationToken)
    {
        if (!window.Counts.TryGetValue(scope, out var atStart))
        {
            Queries++;
            atStart = await store.CountAsync(new AuditQuery
            {
                Since = window.Start, Statuses = Intended, DryRun = false, RuleId = scope.RuleId, Action = scope.Action, Provider = scope.Provider,
                Destructive = scope.Destructive,
            }, cancellationToken).ConfigureAwait(false);
            window.Counts[scope] = atStart;
        }

        return atStart;
    }

    /// <summary>The intents of [Start, Start + Slice) in time order, and counts from Start per scope.</summary>
    private sealed class Window(DateTimeOffset start, IReadOnlyList<AuditRecord> rows)
    {
        public DateTimeOffset Start { get; } = start;

        public List<AuditRecord> Rows { get; } = [.. rows.OrderBy(r => r.RecordedAt).ThenBy(r => r.Sequence)];

        public Dictionary<(string?, string?, string?, bool?), long> Counts { get; } = [];
    }
}
