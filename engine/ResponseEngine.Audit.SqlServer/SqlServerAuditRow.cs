using System.Data;
using Dapper;

namespace ResponseEngine.Audit.SqlServer;

/// <summary>One dbo.audit_log row as SQL Server returns it; converted to and from <see cref="AuditRecord"/> here and nowhere else.</summary>
internal sealed class SqlServerAuditRow
{
    public long Sequence { get; set; }

    public DateTime RecordedAt { get; set; }

    public string RunId { get; set; } = "";

    public string Host { get; set; } = "";

    public string EngineVersion { get; set; } = "";

    public string Actor { get; set; } = "";

    public string Status { get; set; } = "";

    public bool DryRun { get; set; }

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

    public bool Destructive { get; set; }

    public string? Verdict { get; set; }

    public string? Guard { get; set; }

    public string? Reason { get; set; }

    public string? Error { get; set; }

    public string? PriorState { get; set; }

    public string? Facts { get; set; }

    public string PreviousHash { get; set; } = "";

    public string Hash { get; set; } = "";

    /// <summary>Parameters for <see cref="SqlServerStatements.Insert"/>, typed by hand: Dapper's default for DateTime is datetime, which would drop ticks and break the hash.</summary>
    public static DynamicParameters InsertParameters(AuditRecord record)
    {
        var e = record.Entry;
        var p = new DynamicParameters();
        p.Add("Sequence", record.Sequence, DbType.Int64);
        p.Add("RecordedAt", record.RecordedAt.UtcDateTime, DbType.DateTime2);
        p.Add("RunId", e.RunId, DbType.String);
        p.Add("Host", e.Host, DbType.String);
        p.Add("EngineVersion", e.EngineVersion, DbType.String);
        p.Add("Actor", e.Actor, DbType.String);
        p.Add("Status", e.Status.Name(), DbType.String);
        p.Add("DryRun", e.DryRun, DbType.Boolean);
        p.Add("IdempotencyKey", e.IdempotencyKey, DbType.String);
        p.Add("IntentSequence", e.IntentSequence, DbType.Int64);
        p.Add("RuleId", e.RuleId, DbType.String);
        p.Add("RuleFile", e.RuleFile, DbType.String);
        p.Add("RuleHash", e.RuleHash, DbType.String);
        p.Add("RulesCommit", e.RulesCommit, DbType.String);
        p.Add("FindingId", e.FindingId, DbType.String);
        p.Add("FindingSource", e.FindingSource, DbType.String);
        p.Add("Provider", e.Provider, DbType.String);
        p.Add("IdentityId", e.IdentityId, DbType.String);
        p.Add("IdentityName", e.IdentityName, DbType.String);
        p.Add("Action", e.Action, DbType.String);
        p.Add("Parameters", e.Parameters, DbType.String, size: -1);
        p.Add("Destructive", e.Destructive, DbType.Boolean);
        p.Add("Verdict", e.Verdict, DbType.String);
        p.Add("Guard", e.Guard, DbType.String);
        p.Add("Reason", e.Reason, DbType.String, size: -1);
        p.Add("Error", e.Error, DbType.String, size: -1);
        p.Add("PriorState", e.PriorState, DbType.String, size: -1);
        p.Add("Facts", e.Facts, DbType.String, size: -1);
        p.Add("PreviousHash", record.PreviousHash, DbType.AnsiStringFixedLength, size: 64);
        p.Add("Hash", record.Hash, DbType.AnsiStringFixedLength, size: 64);
        return p;
    }

    /// <summary>Throws <see cref="FormatException"/> for a row no engine could have written (unknown status).</summary>
    public AuditRecord ToRecord() => new(
        Sequence,
        new DateTimeOffset(DateTime.SpecifyKind(RecordedAt, DateTimeKind.Utc)),
        new AuditEntry
        {
            RunId = RunId,
            Host = Host,
            EngineVersion = EngineVersion,
            Actor = Actor,
            Status = AuditStatuses.Parse(Status),
            DryRun = DryRun,
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
            Destructive = Destructive,
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
