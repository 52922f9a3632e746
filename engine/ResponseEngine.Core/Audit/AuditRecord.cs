using System.Security.Cryptography;
using System.Text;

namespace ResponseEngine.Audit;

/// <summary>What a row of the audit trail says happened. Stored as lower-case snake_case text.</summary>
public enum AuditStatus
{
    /// <summary>Written before an action runs; no action without it.</summary>
    Intended,
    Succeeded,
    Failed,

    /// <summary>The target was already in the desired state.</summary>
    Noop,
    Skipped,
    Held,
    DryRun,
    TimedOut,

    /// <summary>A person approved a held decision (`respond approve`).</summary>
    Approved,
    BreakerOpened,
    BreakerRearmed,

    /// <summary>A person rejected a held decision (`respond reject`): it is never approved or run.</summary>
    Rejected,
}

public static class AuditStatuses
{
    public static string Name(this AuditStatus status) => status switch
    {
        AuditStatus.Intended => "intended",
        AuditStatus.Succeeded => "succeeded",
        AuditStatus.Failed => "failed",
        AuditStatus.Noop => "noop",
        AuditStatus.Skipped => "skipped",
        AuditStatus.Held => "held",
        AuditStatus.DryRun => "dry_run",
        AuditStatus.TimedOut => "timed_out",
        AuditStatus.Approved => "approved",
        AuditStatus.BreakerOpened => "breaker_opened",
        AuditStatus.BreakerRearmed => "breaker_rearmed",
        AuditStatus.Rejected => "rejected",
        _ => throw new ArgumentOutOfRangeException(nameof(status)),
    };

    public static AuditStatus Parse(string text)
    {
        foreach (var status in Enum.GetValues<AuditStatus>())
        {
            if (status.Name() == text) return status;
        }

        throw new FormatException($"unknown audit status '{text}'");
    }

    /// <summary>Outcome statuses close an intent.</summary>
    public static bool IsOutcome(this AuditStatus status) =>
        status is AuditStatus.Succeeded or AuditStatus.Failed or AuditStatus.Noop or AuditStatus.TimedOut;
}

/// <summary>
/// A row to append. Everything that explains a decision travels with it: who ran it, which rule at which hash and
/// commit, which finding, what the rule saw, and what the target looked like before.
/// </summary>
public sealed record AuditEntry
{
    public required string RunId { get; init; }

    public required string Host { get; init; }

    public required string EngineVersion { get; init; }

    public required string Actor { get; init; }

    public required AuditStatus Status { get; init; }

    public bool DryRun { get; init; }

    /// <summary>Hash of finding id, rule id and content hash, action, target and parameters: the same decision has the same key.</summary>
    public string? IdempotencyKey { get; init; }

    /// <summary>For an outcome, the sequence number of its intent.</summary>
    public long? IntentSequence { get; init; }

    public string? RuleId { get; init; }

    public string? RuleFile { get; init; }

    public string? RuleHash { get; init; }

    public string? RulesCommit { get; init; }

    public string? FindingId { get; init; }

    public string? FindingSource { get; init; }

    public string? Provider { get; init; }

    public string? IdentityId { get; init; }

    public string? IdentityName { get; init; }

    public string? Action { get; init; }

    /// <summary>Canonical JSON of the action parameters.</summary>
    public string? Parameters { get; init; }

    public bool Destructive { get; init; }

    public string? Verdict { get; init; }

    public string? Guard { get; init; }

    public string? Reason { get; init; }

    public string? Error { get; init; }

    /// <summary>JSON of the target's state before the action, for undo.</summary>
    public string? PriorState { get; init; }

    /// <summary>JSON of the facts the rule saw (finding and identity), for the reviewer who asks why.</summary>
    public string? Facts { get; init; }
}

/// <summary>A stored row: the entry, its place in the trail, and its link in the hash chain.</summary>
public sealed record AuditRecord(long Sequence, DateTimeOffset RecordedAt, AuditEntry Entry, string PreviousHash, string Hash)
{
    public const string GenesisHash = "0000000000000000000000000000000000000000000000000000000000000000";

    /// <summary>SHA-256 over every field and the previous row's hash; any change to a stored row breaks the chain from there on.</summary>
    public static string ComputeHash(long sequence, DateTimeOffset recordedAt, AuditEntry e, string previousHash)
    {
        var builder = new StringBuilder(512);
        void Field(string? value) => builder.Append(value?.Length ?? -1).Append(':').Append(value).Append('|');
        Field(sequence.ToString(System.Globalization.CultureInfo.InvariantCulture));
        Field(recordedAt.UtcTicks.ToString(System.Globalization.CultureInfo.InvariantCulture));
        Field(e.RunId);
        Field(e.Host);
        Field(e.EngineVersion);
        Field(e.Actor);
        Field(e.Status.Name());
        Field(e.DryRun ? "1" : "0");
        Field(e.IdempotencyKey);
        Field(e.IntentSequence?.ToString(System.Globalization.CultureInfo.InvariantCulture));
        Field(e.RuleId);
        Field(e.RuleFile);
        Field(e.RuleHash);
        Field(e.RulesCommit);
        Field(e.FindingId);
        Field(e.FindingSource);
        Field(e.Provider);
        Field(e.IdentityId);
        Field(e.IdentityName);
        Field(e.Action);
        Field(e.Parameters);
        Field(e.Destructive ? "1" : "0");
        Field(e.Verdict);
        Field(e.Guard);
        Field(e.Reason);
        Field(e.Error);
        Field(e.PriorState);
        Field(e.Facts);
        Field(previousHash);
        return Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(builder.ToString())));
    }
}
