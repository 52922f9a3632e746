namespace ResponseEngine.Audit.Sqlite;

/// <summary>
/// Every SQL text the SQLite inbox sends, apart from the audit trail's, so a test can prove that they write only the
/// inbox's lease and completion columns and the poller cursors, and never touch audit_log.
/// </summary>
internal static class SqliteInboxStatements
{
    public const string Insert =
        """
        INSERT INTO inbox (source, finding_id, origin, payload, received_at, attempts)
        VALUES (@Source, @FindingId, @Origin, @Payload, @ReceivedAt, 0)
        ON CONFLICT (source, finding_id) DO NOTHING;
        """;

    private const string Columns =
        "sequence AS Sequence, source AS Source, finding_id AS FindingId, origin AS Origin, payload AS Payload, received_at AS ReceivedAt, attempts AS Attempts";

    /// <summary>One statement inside BEGIN IMMEDIATE: no other writer can lease the same rows between the choice and the write.</summary>
    public const string Lease =
        """
        UPDATE inbox
           SET lease_owner = @Owner, lease_until = @Until, attempts = attempts + 1
         WHERE sequence IN (
               SELECT sequence FROM inbox
                WHERE completed_at IS NULL AND (lease_until IS NULL OR lease_until < @Now)
                ORDER BY sequence
                LIMIT @Max)
        RETURNING
        """ + " " + Columns + ";";

    public const string Complete =
        "UPDATE inbox SET completed_at = @Now, outcome = @Outcome, lease_owner = @Owner, lease_until = NULL WHERE sequence = @Sequence AND completed_at IS NULL;";

    public const string Release =
        "UPDATE inbox SET lease_until = NULL WHERE lease_owner = @Owner AND completed_at IS NULL AND lease_until IS NOT NULL;";

    public const string Requeue =
        "UPDATE inbox SET completed_at = NULL, outcome = NULL, lease_until = NULL WHERE source = @Source AND finding_id = @FindingId AND completed_at IS NOT NULL;";

    public const string ReceivedSince =
        "SELECT " + Columns + " FROM inbox WHERE received_at >= @Since ORDER BY sequence;";

    public const string Counts =
        """
        SELECT
            COALESCE(SUM(CASE WHEN completed_at IS NULL AND (lease_until IS NULL OR lease_until < @Now) THEN 1 ELSE 0 END), 0) AS Pending,
            COALESCE(SUM(CASE WHEN completed_at IS NULL AND lease_until >= @Now THEN 1 ELSE 0 END), 0) AS Leased,
            COALESCE(SUM(CASE WHEN completed_at IS NOT NULL THEN 1 ELSE 0 END), 0) AS Completed
          FROM inbox;
        """;

    public const string ReadCursor = "SELECT value FROM poller_cursor WHERE name = @Name;";

    public const string SaveCursor =
        """
        INSERT INTO poller_cursor (name, value, updated_at) VALUES (@Name, @Value, @Now)
        ON CONFLICT (name) DO UPDATE SET value = excluded.value, updated_at = excluded.updated_at;
        """;

    public const string Reject =
        """
        INSERT INTO inbox_rejected (fingerprint, origin, record_key, payload, reason, rejected_at)
        VALUES (@Fingerprint, @Origin, @Key, @Payload, @Reason, @Now)
        ON CONFLICT (fingerprint) DO NOTHING;
        """;

    private const string RejectedColumns =
        "id AS Id, origin AS Origin, record_key AS Key, payload AS Payload, reason AS Reason, rejected_at AS RejectedAt, resubmitted_at AS ResubmittedAt";

    public const string ListRejected =
        "SELECT " + RejectedColumns + " FROM inbox_rejected WHERE @All = 1 OR resubmitted_at IS NULL ORDER BY id;";

    public const string GetRejected = "SELECT " + RejectedColumns + " FROM inbox_rejected WHERE id = @Id;";

    public const string MarkResubmitted = "UPDATE inbox_rejected SET resubmitted_at = @Now WHERE id = @Id AND resubmitted_at IS NULL;";

    public static IReadOnlyList<string> All { get; } = [Insert, Lease, Complete, Release, Requeue, ReceivedSince, Counts, ReadCursor, SaveCursor, Reject, ListRejected, GetRejected, MarkResubmitted];
}
