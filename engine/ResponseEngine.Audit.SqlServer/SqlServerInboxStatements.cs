namespace ResponseEngine.Audit.SqlServer;

/// <summary>
/// Every T-SQL text the SQL Server inbox sends, apart from the audit trail's: the tests parse each with ScriptDom and
/// prove that they write only dbo.inbox and dbo.poller_cursor, never dbo.audit_log.
/// </summary>
internal static class SqlServerInboxStatements
{
    /// <summary>Inside the add transaction: the key-range lock (UPDLOCK, HOLDLOCK) makes the existence test and the insert one step.</summary>
    public const string Insert =
        """
        INSERT INTO dbo.inbox (source, finding_id, origin, payload, received_at, attempts)
        SELECT @Source, @FindingId, @Origin, @Payload, @ReceivedAt, 0
         WHERE NOT EXISTS (SELECT 1 FROM dbo.inbox WITH (UPDLOCK, HOLDLOCK) WHERE source = @Source AND finding_id = @FindingId);
        SELECT @@ROWCOUNT;
        """;

    /// <summary>
    /// One statement: UPDLOCK keeps the chosen rows from being chosen by another instance until the update commits, and
    /// READPAST skips the rows another instance is leasing right now instead of waiting for them.
    /// </summary>
    public const string Lease =
        """
        WITH next AS (
            SELECT TOP (@Max) sequence, source, finding_id, origin, payload, received_at, lease_owner, lease_until, attempts
              FROM dbo.inbox WITH (UPDLOCK, READPAST, ROWLOCK)
             WHERE completed_at IS NULL AND (lease_until IS NULL OR lease_until < @Now)
             ORDER BY sequence)
        UPDATE next
           SET lease_owner = @Owner, lease_until = @Until, attempts = attempts + 1
        OUTPUT inserted.sequence AS Sequence, inserted.source AS Source, inserted.finding_id AS FindingId, inserted.origin AS Origin,
               inserted.payload AS Payload, inserted.received_at AS ReceivedAt, inserted.attempts AS Attempts;
        """;

    public const string Complete =
        """
        UPDATE dbo.inbox
           SET completed_at = @Now, outcome = @Outcome, lease_owner = @Owner, lease_until = NULL
         WHERE sequence = @Sequence AND completed_at IS NULL;
        SELECT @@ROWCOUNT;
        """;

    public const string Release =
        """
        UPDATE dbo.inbox SET lease_until = NULL WHERE lease_owner = @Owner AND completed_at IS NULL AND lease_until IS NOT NULL;
        SELECT @@ROWCOUNT;
        """;

    public const string Requeue =
        """
        UPDATE dbo.inbox SET completed_at = NULL, outcome = NULL, lease_until = NULL
         WHERE source = @Source AND finding_id = @FindingId AND completed_at IS NOT NULL;
        SELECT @@ROWCOUNT;
        """;

    public const string ReceivedSince =
        """
        SELECT sequence AS Sequence, source AS Source, finding_id AS FindingId, origin AS Origin, payload AS Payload,
               received_at AS ReceivedAt, attempts AS Attempts
          FROM dbo.inbox WHERE received_at >= @Since ORDER BY sequence;
        """;

    public const string Counts =
        """
        SELECT
            COALESCE(SUM(CASE WHEN completed_at IS NULL AND (lease_until IS NULL OR lease_until < @Now) THEN CAST(1 AS bigint) ELSE 0 END), 0) AS Pending,
            COALESCE(SUM(CASE WHEN completed_at IS NULL AND lease_until >= @Now THEN CAST(1 AS bigint) ELSE 0 END), 0) AS Leased,
            COALESCE(SUM(CASE WHEN completed_at IS NOT NULL THEN CAST(1 AS bigint) ELSE 0 END), 0) AS Completed
          FROM dbo.inbox;
        """;

    public const string ReadCursor = "SELECT value FROM dbo.poller_cursor WHERE name = @Name;";

    public const string SaveCursor =
        """
        SET XACT_ABORT ON;
        UPDATE dbo.poller_cursor WITH (UPDLOCK, SERIALIZABLE) SET value = @Value, updated_at = @Now WHERE name = @Name;
        IF @@ROWCOUNT = 0
            INSERT INTO dbo.poller_cursor (name, value, updated_at) VALUES (@Name, @Value, @Now);
        """;

    /// <summary>Inside the reject transaction: the key-range lock makes the existence test and the insert one step, as for the inbox.</summary>
    public const string Reject =
        """
        INSERT INTO dbo.inbox_rejected (fingerprint, origin, record_key, payload, reason, rejected_at)
        SELECT @Fingerprint, @Origin, @Key, @Payload, @Reason, @Now
         WHERE NOT EXISTS (SELECT 1 FROM dbo.inbox_rejected WITH (UPDLOCK, HOLDLOCK) WHERE fingerprint = @Fingerprint);
        SELECT @@ROWCOUNT;
        """;

    public const string ListRejected =
        """
        SELECT id AS Id, origin AS Origin, record_key AS [Key], payload AS Payload, reason AS Reason, rejected_at AS RejectedAt, resubmitted_at AS ResubmittedAt
          FROM dbo.inbox_rejected WHERE @All = 1 OR resubmitted_at IS NULL ORDER BY id;
        """;

    public const string GetRejected =
        """
        SELECT id AS Id, origin AS Origin, record_key AS [Key], payload AS Payload, reason AS Reason, rejected_at AS RejectedAt, resubmitted_at AS ResubmittedAt
          FROM dbo.inbox_rejected WHERE id = @Id;
        """;

    public const string MarkResubmitted =
        """
        UPDATE dbo.inbox_rejected SET resubmitted_at = @Now WHERE id = @Id AND resubmitted_at IS NULL;
        SELECT @@ROWCOUNT;
        """;

    public static IReadOnlyList<string> All { get; } = [Insert, Lease, Complete, Release, Requeue, ReceivedSince, Counts, ReadCursor, SaveCursor, Reject, ListRejected, GetRejected, MarkResubmitted];
}
