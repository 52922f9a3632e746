using System.Globalization;

namespace ResponseEngine.Audit.Sqlite;

/// <summary>One audit_log row as SQLite returns it; converted to and from <see cref="AuditRecord"/> here and nowhere else.</summary>
internal sealed class SqliteAuditRow
{
    /// <summary>Fixed width, so text order is time order, and seven fraction digits, so the tick round-trips.</summary>
    public const string TimestampFormat = "yyyy'-'MM'-'dd'T'HH':'mm':'ss'.'fffffff'Z'";

    public long Sequence { get; set; }

    public string RecordedAt { get; set; } = "";

    public string RunId { get; set; } = "";

    public string Host { get; set; } = "";

    public string EngineVersion { get; set; } = "";

    public string Actor { get; set; } = "";

    public string Status { get; set; } = "";

    public long DryRun { get; set; }

    public string? IdempotencyKey { get; set; }

    public long? IntentSequence { get; set; }

    public string? RuleId { get; set; }

    public string? RuleFile { get; set; }

    public string? RuleHash { get; set; }

    public string? RulesCommit { get; set; }

    public string? FindingId { get; set; }

    public string? FindingSource { get; set; }

    public string? Provider { get; set; }

    public string? IdentityId { get; set; }

    public string? IdentityName { get; set; }

    public string? Action { get; set; }

    public string? Parameters { get; set; }

    public long Destructive { get; set; }

    public string? Verdict { get; set; }

    public string? Guard { get; set; }

    public string? Reason { get; set; }

    public string? Error { get; set; }

    public string? PriorState { get; set; }

    public string? Facts { get; set; }

    public string PreviousHash { get; set; } = "";

    public string Hash { get; set; } = "";

    public static string FormatTimestamp(DateTimeOffset value) => value.UtcDateTime.ToString(TimestampFormat, CultureInfo.InvariantCulture);

    public static DateTimeOffset ParseTimestamp(string text) =>
        new(DateTime.SpecifyKind(DateTime.ParseExact(text, TimestampFormat, CultureInfo.InvariantCulture, DateTimeStyles.None), DateTimeKind.Utc));

    public static SqliteAuditRow From(AuditRecord record)
    {
        var e = record.Entry;
        return new SqliteAuditRow
        {
            Sequence = record.Sequence,
            RecordedAt = FormatTimestamp(record.RecordedAt),
            RunId = e.RunId,
            Host = e.Host,
            EngineVersion = e.EngineVersion,
            Actor = e.Actor,
            Status = e.Status.Name(),
            DryRun = e.DryRun ? 1 : 0,
            IdempotencyKey = e.IdempotencyKey,
            IntentSequence = e.IntentSequence,
            RuleId = e.RuleId,
            RuleFile = e.RuleFile,
            RuleHash = e.RuleHash,
            RulesCommit = e.RulesCommit,
            FindingId = e.FindingId,
            FindingSource = e.FindingSource,
            Provider = e.Provider,
            IdentityId = e.IdentityId,
            IdentityName = e.IdentityName,
            Action = e.Action,
            Parameters = e.Parameters,
            Destructive = e.Destructive ? 1 : 0,
            Verdict = e.Verdict,
            Guard = e.Guard,
            Reason = e.Reason,
            Error = e.Error,
            PriorState = e.PriorState,
            Facts = e.Facts,
            PreviousHash = record.PreviousHash,
            Hash = record.Hash,
        };
    }

    /// <summary>Throws <see cref="FormatException"/> for a row no engine could have written (unknown status, bad timestamp).</summary>
    public AuditRecord ToRecord() => new(
        Sequence,
        ParseTimestamp(RecordedAt),
        new AuditEntry
        {
            RunId = RunId,
            Host = Host,
            EngineVersion = EngineVersion,
            Actor = Actor,
            Status = AuditStatuses.Parse(Status),
            DryRun = DryRun != 0,
            IdempotencyKey = IdempotencyKey,
            IntentSequence = IntentSequence,
            RuleId = RuleId,
            RuleFile = RuleFile,
            RuleHash = RuleHash,
            RulesCommit = RulesCommit,
            FindingId = FindingId,
            FindingSource = FindingSource,
            Provider = Provider,
            IdentityId = IdentityId,
            IdentityName = IdentityName,
            Action = Action,
            Parameters = Parameters,
            Destructive = Destructive != 0,
            Verdict = Verdict,
            Guard = Guard,
            Reason = Reason,
            Error = Error,
            PriorState = PriorState,
            Facts = Facts,
        },
        PreviousHash,
        Hash);
}
