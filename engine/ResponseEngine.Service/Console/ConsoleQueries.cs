using System.Text.Json;
using ResponseEngine.Audit;
using ResponseEngine.Configuration;
using ResponseEngine.Findings;
using ResponseEngine.Operations;

namespace ResponseEngine.Service.Console;

/// <summary>The activity filters of the console and the API; every set filter must hold.</summary>
public sealed record AuditSearch
{
    public string? Identity { get; init; }

    public string? Rule { get; init; }

    public string? Action { get; init; }

    public string? Provider { get; init; }

    public IReadOnlyCollection<AuditStatus>? Statuses { get; init; }

    public string? Guard { get; init; }

    public string? Run { get; init; }

    public DateTimeOffset? Since { get; init; }

    /// <summary>Exclusive.</summary>
    public DateTimeOffset? Until { get; init; }

    public AuditQuery ToQuery() => new()
    {
        Identity = Identity, RuleId = Rule, Action = Action, Provider = Provider, Statuses = Statuses, Guard = Guard, RunId = Run, Since = Since, Until = Until,
    };
}

/// <summary>One audit row as the console shows it in a list.</summary>
public sealed record AuditRowView(
    long Sequence, DateTimeOffset RecordedAt, string Status, bool DryRun, string RunId, string Actor, string? RuleId, string? FindingSource, string? FindingId,
    string? Provider, string? IdentityId, string? IdentityName, string? Action, JsonElement? Parameters, bool Destructive, string? Verdict, string? Guard,
    string? Reason, string? Error, long? IntentSequence)
{
    public static AuditRowView From(AuditRecord r)
    {
        ArgumentNullException.ThrowIfNull(r);
        var e = r.Entry;
        return new(r.Sequence, r.RecordedAt, e.Status.Name(), e.DryRun, e.RunId, e.Actor, e.RuleId, e.FindingSource, e.FindingId, e.Provider, e.IdentityId, e.IdentityName,
            e.Action, Json(e.Parameters), e.Destructive, e.Verdict, e.Guard, e.Reason, e.Error, e.IntentSequence);
    }

    /// <summary>Stored JSON as JSON (a value that does not parse is kept as a string, so nothing is lost).</summary>
    internal static JsonElement? Json(string? text)
    {
        if (text is null) return null;
        try
        {
            using var document = JsonDocument.Parse(text);
            return document.RootElement.Clone();
        }
        catch (JsonException)
        {
            return JsonSerializer.SerializeToElement(text);
        }
    }
}

/// <summary>One row in full: everything stored, with the finding's facts, the prior state, the hashes, and the rows that answer it.</summary>
public sealed record AuditRowDetail(
    AuditRowView Row, string Host, string EngineVersion, string? IdempotencyKey, string? RuleFile, string? RuleHash, string? RulesCommit, JsonElement? Facts,
    JsonElement? PriorState, string PreviousHash, string Hash, IReadOnlyList<AuditRowView> Related, bool Undoable, string? NotUndoable);

/// <summary>A page of rows, newest first; pass <see cref="Next"/> as `before` for the next page (null: no more).</summary>
public sealed record AuditPage(IReadOnlyList<AuditRowView> Rows, long? Next);

/// <summary>A decision waiting for approval, as the Pending page shows it.</summary>
public sealed record PendingApprovalView(
    long Sequence, DateTimeOffset HeldAt, DateTimeOffset ExpiresAt, long AgeSeconds, long ExpiresInSeconds, string? RuleId, string? RuleHash, string? FindingSource,
    string? FindingId, string? Provider, string? IdentityId, string? IdentityName, string? Action, JsonElement? Parameters, bool Destructive, string? Reason, JsonElement? Facts);

/// <summary>The breaker: open or closed, the event that decided it, the destructive actions it held, and the threshold it counts against.</summary>
public sealed record BreakerView(bool Open, AuditRowView? LastEvent, IReadOnlyList<AuditRowView> Held, int Threshold, TimeSpan Window, long DestructiveInWindow);

/// <summary>One rate-limit window: its scope (all, provider, action, rule), the limit per hour and what the last hour used.</summary>
public sealed record LimitWindowView(string Scope, string? Name, int Limit, long Used, DateTimeOffset Since);

/// <summary>A row of an identity's timeline, with whether it can still be undone (a succeeded, reversible action not undone yet).</summary>
public sealed record TimelineEntryView(AuditRowView Row, bool Undoable);

/// <summary>A page of an identity's timeline, newest first.</summary>
public sealed record TimelinePage(string Identity, IReadOnlyList<TimelineEntryView> Rows, long? Next);

/// <summary>
/// One account of a person (#21): provider, id and name as the trail recorded them, and, when a rule acted on it as a
/// linked account, the account the finding named (its person-index key) and the equal values that linked them.
/// </summary>
public sealed record PersonAccountView(string Provider, string Id, string? Name, string? LinkedFrom, string? Evidence);

/// <summary>A person's accounts and a page of the rows about any of them, newest first across them (#21).</summary>
public sealed record PersonTimelinePage(string Identity, IReadOnlyList<PersonAccountView> Accounts, IReadOnlyList<TimelineEntryView> Rows, long? Next);

/// <summary>A run (or an operator's action, or a serve batch) seen in the latest rows: when, who, rows by status.</summary>
public sealed record RunView(string RunId, string Actor, string Host, DateTimeOffset First, DateTimeOffset Last, long FirstSequence, long LastSequence,
    IReadOnlyDictionary<string, int> Statuses, bool DryRun);

/// <summary>A loaded rule as the Rules page lists it.</summary>
public sealed record RuleView(string Id, string Title, string Owner, string Mode, DateOnly? Expires, bool Expired, string File, string Hash, string Approval,
    int? MaxPerHour, IReadOnlyList<string> Actions);

/// <summary>The loaded rule set, its commit, and the last reload's result.</summary>
public sealed record RulesView(int Count, string? Commit, string? Fingerprint, DateTimeOffset? LoadedAt, bool LastReloadFailed, DateTimeOffset? LastFailureAt,
    IReadOnlyList<string> LastFailureProblems, IReadOnlyList<RuleView> Rules);

/// <summary>What the console reads. One implementation (<see cref="ConsoleQueries"/>), registered in the serve host's DI.</summary>
public interface IConsoleQueries
{
    Task<IReadOnlyList<PendingApprovalView>> PendingApprovalsAsync(CancellationToken cancellationToken);

    Task<BreakerView> BreakerAsync(CancellationToken cancellationToken);

    /// <summary>Newest first, <paramref name="limit"/> rows before sequence <paramref name="before"/> (keyset paging; never reads more than a page).</summary>
    Task<AuditPage> SearchAuditAsync(AuditSearch search, long? before, int limit, CancellationToken cancellationToken);

    /// <summary>One row in full; null when there is no such row.</summary>
    Task<AuditRowDetail?> RowAsync(long sequence, CancellationToken cancellationToken);

    /// <summary>The rate-limit windows respond.yaml and the rules set, with what the last hour used of each.</summary>
    Task<IReadOnlyList<LimitWindowView>> LimitsAsync(CancellationToken cancellationToken);

    /// <summary>Every finding and decision about one identity (its id or name), newest first, a page at a time, with which rows can be undone.</summary>
    Task<TimelinePage> TimelineAsync(string identity, long? before, int limit, CancellationToken cancellationToken);

    /// <summary>
    /// The person an account (id or name) belongs to, as the trail's person index links them: every account with its link
    /// evidence, and every row about any of them, newest first, a page at a time (keyset, like the timeline).
    /// </summary>
    Task<PersonTimelinePage> PersonTimelineAsync(string identity, long? before, int limit, CancellationToken cancellationToken);

    /// <summary>The latest runs, newest first, from the latest <see cref="ConsoleQueries.RunWindow"/> rows.</summary>
    Task<IReadOnlyList<RunView>> RunsAsync(int limit, CancellationToken cancellationToken);

    /// <summary>The loaded rule set (commit, rules, mode, owner, expiry) and the last reload's result.</summary>
    RulesView Rules();

    /// <summary>Health as /readyz knows it (rules, audit store, connectors, pollers) and the inbox depth.</summary>
    Task<(bool Ready, object Report)> HealthAsync(CancellationToken cancellationToken);

    /// <summary>Every row the search matches, oldest first, read a page at a time (never all at once).</summary>
    IAsyncEnumerable<AuditRecord> ExportAsync(AuditSearch search, CancellationToken cancellationToken);
}

/// <summary>The console's reads over the audit store (and the operations layer for what a person may still do).</summary>
public sealed class ConsoleQueries(ServeSetup setup, OperatorActions actions, Rules.RuleSetHolder rules, Operations.Readiness readiness) : IConsoleQueries
{
    public const int MaxPage = 500;

    /// <summary>How many of the latest rows the runs view groups.</summary>
    public const int RunWindow = 5000;

    /// <summary>Rows read at a time by an export.</summary>
    public const int ExportPage = 1000;

    private IAuditStore Store => setup.Store;

    private TimeProvider Time => setup.Time;

    private EngineOptions Options => setup.Options;

    public async Task<IReadOnlyList<PendingApprovalView>> PendingApprovalsAsync(CancellationToken cancellationToken)
    {
        var now = Time.GetUtcNow();
        return [.. (await actions.PendingApprovalsAsync(cancellationToken)).Select(p =>
        {
            var (r, expiresAt) = p;
            var e = r.Entry;
            return new PendingApprovalView(r.Sequence, r.RecordedAt, expiresAt, (long)(now - r.RecordedAt).TotalSeconds, Math.Max(0, (long)(expiresAt - now).TotalSeconds),
                e.RuleId, e.RuleHash, e.FindingSource, e.FindingId, e.Provider, e.IdentityId, e.IdentityName, e.Action, AuditRowView.Json(e.Parameters), e.Destructive, e.Reason,
                AuditRowView.Json(e.Facts));
        })];
    }

    public async Task<BreakerView> BreakerAsync(CancellationToken cancellationToken)
    {
        var (open, last) = await actions.BreakerStateAsync(cancellationToken);
        var held = open ? await actions.HeldByBreakerAsync(last!, cancellationToken) : [];
        var breaker = Options.Guards.Breaker;
        var destructive = await Store.CountAsync(new AuditQuery { Since = Time.GetUtcNow() - breaker.Window, Statuses = [AuditStatus.Intended], DryRun = false, Destructive = true }, cancellationToken);
        return new BreakerView(open, last is null ? null : AuditRowView.From(last), [.. held.Select(AuditRowView.From)], breaker.Threshold, breaker.Window, destructive);
    }

    public async Task<AuditPage> SearchAuditAsync(AuditSearch search, long? before, int limit, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(search);
        limit = Math.Clamp(limit, 1, MaxPage);
        var rows = await Store.ReadAsync(search.ToQuery() with { BeforeSequence = before, Descending = true, Limit = limit + 1 }, cancellationToken);
        var page = rows.Take(limit).Select(AuditRowView.From).ToList();
        return new AuditPage(page, rows.Count > limit ? page[^1].Sequence : null);
    }

    public async Task<AuditRowDetail?> RowAsync(long sequence, CancellationToken cancellationToken)
    {
        var rows = await Store.ReadAsync(new AuditQuery { AfterSequence = sequence - 1, Limit = 1 }, cancellationToken);
        if (rows.Count != 1 || rows[0].Sequence != sequence) return null;
        var r = rows[0];
        var e = r.Entry;
        IReadOnlyList<AuditRecord> related = e.IdempotencyKey is { } key
            ? [.. (await Store.ReadAsync(new AuditQuery { IdempotencyKey = key, Limit = 50 }, cancellationToken)).Where(x => x.Sequence != sequence)]
            : [];
        var (_, problem, _) = e.Status is AuditStatus.Succeeded or AuditStatus.Intended ? await actions.UndoableAsync(r, cancellationToken) : (null, "only a succeeded action can be undone", default);
        return new AuditRowDetail(AuditRowView.From(r), e.Host, e.EngineVersion, e.IdempotencyKey, e.RuleFile, e.RuleHash, e.RulesCommit, AuditRowView.Json(e.Facts),
            AuditRowView.Json(e.PriorState), r.PreviousHash, r.Hash, [.. related.Select(AuditRowView.From)], problem is null, problem);
    }

    public async Task<IReadOnlyList<LimitWindowView>> LimitsAsync(CancellationToken cancellationToken)
    {
        var since = Time.GetUtcNow() - TimeSpan.FromHours(1);
        var limits = Options.Guards.RateLimits;
        var windows = new List<(string Scope, string? Name, int Limit, AuditQuery Query)>();
        if (limits.GlobalPerHour is { } global) windows.Add(("all", null, global, new AuditQuery()));
        foreach (var (provider, limit) in limits.PerProviderPerHour.OrderBy(p => p.Key.Name(), StringComparer.Ordinal))
            windows.Add(("provider", provider.Name(), limit, new AuditQuery { Provider = provider.Name() }));
        foreach (var (action, limit) in limits.PerActionPerHour.OrderBy(p => p.Key, StringComparer.Ordinal))
            windows.Add(("action", action, limit, new AuditQuery { Action = action }));
        foreach (var rule in rules.Current?.Rules ?? [])
        {
            if (rule.Limits.MaxPerHour is { } perRule) windows.Add(("rule", rule.Id, perRule, new AuditQuery { RuleId = rule.Id }));
        }

        var views = new List<LimitWindowView>(windows.Count);
        foreach (var (scope, name, limit, query) in windows)
        {
            // Counted exactly as the rate-limit guard counts: intents of the last hour, dry runs aside.
            var used = await Store.CountAsync(query with { Since = since, Statuses = [AuditStatus.Intended], DryRun = false }, cancellationToken);
            views.Add(new LimitWindowView(scope, name, limit, used, since));
        }

        return views;
    }

    public async Task<TimelinePage> TimelineAsync(string identity, long? before, int limit, CancellationToken cancellationToken)
    {
        var page = await SearchAuditAsync(new AuditSearch { Identity = identity }, before, limit, cancellationToken);
        return new TimelinePage(identity, await UndoableAsync(page.Rows, cancellationToken), page.Next);
    }

    public async Task<PersonTimelinePage> PersonTimelineAsync(string identity, long? before, int limit, CancellationToken cancellationToken)
    {
        ArgumentException.ThrowIfNullOrEmpty(identity);
        var accounts = await PersonLookup.FindAsync(Store, identity, cancellationToken);
        if (accounts.Count == 0) return new PersonTimelinePage(identity, [], [], null);
        limit = Math.Clamp(limit, 1, MaxPage);
        var found = await Store.ReadAsync(new AuditQuery { Accounts = [.. accounts.Select(a => a.Key)], BeforeSequence = before, Descending = true, Limit = limit + 1 }, cancellationToken);
        var page = found.Take(limit).Select(AuditRowView.From).ToList();
        return new PersonTimelinePage(
            identity,
            [.. accounts.Select(a => new PersonAccountView(a.Provider, a.Id, a.Name, a.LinkedFrom, a.Evidence))],
            await UndoableAsync(page, cancellationToken),
            found.Count > limit ? page[^1].Sequence : null);
    }

    /// <summary>The rows with whether each can still be undone (a succeeded, reversible action not undone yet).</summary>
    private async Task<List<TimelineEntryView>> UndoableAsync(IReadOnlyList<AuditRowView> page, CancellationToken cancellationToken)
    {
        var rows = new List<TimelineEntryView>(page.Count);
        foreach (var row in page)
        {
            var undoable = false;
            if (row.Status == "succeeded" && row.Action is { } action && !action.StartsWith(OperatorActions.UndoPrefix, StringComparison.Ordinal)
                && Actions.ActionCatalogue.Default.Find(action)?.Reversal.Reversible == true)
            {
                undoable = (await actions.UndoableAsync(await actions.FindAsync(row.Sequence, cancellationToken), cancellationToken)).Problem is null;
            }

            rows.Add(new TimelineEntryView(row, undoable));
        }

        return rows;
    }

    public async Task<IReadOnlyList<RunView>> RunsAsync(int limit, CancellationToken cancellationToken)
    {
        var latest = await Store.ReadAsync(new AuditQuery { Descending = true, Limit = RunWindow }, cancellationToken);
        return [.. latest.GroupBy(r => r.Entry.RunId, StringComparer.Ordinal)
            .Select(g => new RunView(g.Key, g.First().Entry.Actor, g.First().Entry.Host, g.Min(r => r.RecordedAt), g.Max(r => r.RecordedAt), g.Min(r => r.Sequence), g.Max(r => r.Sequence),
                g.GroupBy(r => r.Entry.Status.Name(), StringComparer.Ordinal).ToDictionary(s => s.Key, s => s.Count(), StringComparer.Ordinal), g.All(r => r.Entry.DryRun)))
            .OrderByDescending(r => r.LastSequence)
            .Take(Math.Clamp(limit, 1, MaxPage))];
    }

    public RulesView Rules()
    {
        var state = rules.State;
        var now = Time.GetUtcNow();
        var list = (state.Rules?.Rules ?? []).Select(r => new RuleView(r.Id, r.Title, r.Owner, r.Mode.ToString().ToLowerInvariant(), r.Expires, r.IsExpired(now),
            r.Source.File, r.Source.ContentHash, r.Approval.ToString().ToLowerInvariant(), r.Limits.MaxPerHour, [.. r.Actions.Select(a => a.Action.Name)])).ToList();
        return new RulesView(state.Count, state.GitCommit, state.Fingerprint, state.LoadedAt, state.LastFailure is not null, state.LastFailure?.At,
            state.LastFailure is { } f ? [.. f.Problems] : [], list);
    }

    public async Task<(bool Ready, object Report)> HealthAsync(CancellationToken cancellationToken)
    {
        var (ready, report) = await readiness.CheckAsync(cancellationToken);
        object? inbox;
        try
        {
            var counts = await setup.Inbox.CountAsync(cancellationToken);
            inbox = new { pending = counts.Pending, leased = counts.Leased, completed = counts.Completed };
        }
        catch (AuditWriteException e)
        {
            inbox = new { error = e.Message };
        }

        return (ready, new { readiness = report, inbox });
    }

    public async IAsyncEnumerable<AuditRecord> ExportAsync(AuditSearch search, [System.Runtime.CompilerServices.EnumeratorCancellation] CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(search);
        long? after = null;
        while (true)
        {
            var page = await Store.ReadAsync(search.ToQuery() with { AfterSequence = after, Limit = ExportPage }, cancellationToken);
            foreach (var row in page) yield return row;
            if (page.Count < ExportPage) yield break;
            after = page[^1].Sequence;
        }
    }
}
