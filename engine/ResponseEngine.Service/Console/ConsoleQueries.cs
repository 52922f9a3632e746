using System.Text.Json;
using ResponseEngine.Audit;
using ResponseEngine.Configuration;
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

/// <summary>What the console reads. One implementation (<see cref="ConsoleQueries"/>), registered in the serve host's DI.</summary>
public interface IConsoleQueries
{
    Task<IReadOnlyList<PendingApprovalView>> PendingApprovalsAsync(CancellationToken cancellationToken);

    Task<BreakerView> BreakerAsync(CancellationToken cancellationToken);

    /// <summary>Newest first, <paramref name="limit"/> rows before sequence <paramref name="before"/> (keyset paging; never reads more than a page).</summary>
    Task<AuditPage> SearchAuditAsync(AuditSearch search, long? before, int limit, CancellationToken cancellationToken);

    /// <summary>One row in full; null when there is no such row.</summary>
    Task<AuditRowDetail?> RowAsync(long sequence, CancellationToken cancellationToken);
}

/// <summary>The console's reads over the audit store (and the operations layer for what a person may still do).</summary>
public sealed class ConsoleQueries(ServeSetup setup, OperatorActions actions) : IConsoleQueries
{
    public const int MaxPage = 500;

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
}
