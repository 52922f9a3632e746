namespace ResponseEngine.Audit.SqlServer;

/// <summary>
/// Every T-SQL text the SQL Server store sends, in one place: with no server at hand, the tests parse each of them with
/// ScriptDom and prove that none updates or deletes an audit row.
/// </summary>
internal static class SqlServerStatements
{
    /// <summary>Name of the applock that serialises appends so the chain's tail cannot move between read and insert.</summary>
    public const string AppendLockResource = "respond:audit_append";

    /// <summary>Name of the applock that lets one process at a time apply migrations.</summary>
    public const string MigrationLockResource = "respond:migrate";

    public const string CreateMigrationsTable =
        """
        IF OBJECT_ID(N'dbo.schema_migrations', N'U') IS NULL
            CREATE TABLE dbo.schema_migrations (
                version    int           NOT NULL CONSTRAINT pk_schema_migrations PRIMARY KEY,
                name       nvarchar(200) NOT NULL,
                checksum   char(64)      NOT NULL,
                applied_at datetime2(7)  NOT NULL
            );
        """;

    public const string SelectMigrations = "SELECT version AS Version, name AS Name, checksum AS Checksum FROM dbo.schema_migrations ORDER BY version;";

    public const string InsertMigration =
        "INSERT INTO dbo.schema_migrations (version, name, checksum, applied_at) VALUES (@Version, @Name, @Checksum, @AppliedAt);";

    /// <summary>Takes an applock owned by the session (held until released or the connection closes); returns sp_getapplock's result.</summary>
    public const string AcquireSessionLock =
        """
        DECLARE @result int;
        EXEC @result = sys.sp_getapplock @Resource = @Resource, @LockMode = N'Exclusive', @LockOwner = N'Session', @LockTimeout = @TimeoutMs;
        SELECT @result;
        """;

    public const string ReleaseSessionLock = "EXEC sys.sp_releaseapplock @Resource = @Resource, @LockOwner = N'Session';";

    /// <summary>Inside the append transaction: wait for the append applock (released at commit), then read the chain's tail.</summary>
    public const string LockAndSelectLast =
        """
        SET XACT_ABORT ON;
        DECLARE @result int;
        EXEC @result = sys.sp_getapplock @Resource = @Resource, @LockMode = N'Exclusive', @LockOwner = N'Transaction', @LockTimeout = @TimeoutMs;
        IF @result < 0
            THROW 51002, N'timed out waiting for the audit append lock', 1;
        SELECT TOP (1) sequence AS Sequence, hash AS Hash FROM dbo.audit_log ORDER BY sequence DESC;
        """;

    public const string Insert =
        """
        INSERT INTO dbo.audit_log (
            sequence, recorded_at, run_id, host, engine_version, actor, status, dry_run, idempotency_key, intent_sequence,
            rule_id, rule_file, rule_hash, rules_commit, finding_id, finding_source, provider, identity_id, identity_name,
            action, parameters, destructive, verdict, guard, reason, error, prior_state, facts, previous_hash, hash)
        VALUES (
            @Sequence, @RecordedAt, @RunId, @Host, @EngineVersion, @Actor, @Status, @DryRun, @IdempotencyKey, @IntentSequence,
            @RuleId, @RuleFile, @RuleHash, @RulesCommit, @FindingId, @FindingSource, @Provider, @IdentityId, @IdentityName,
            @Action, @Parameters, @Destructive, @Verdict, @Guard, @Reason, @Error, @PriorState, @Facts, @PreviousHash, @Hash);
        """;

    /// <summary>The person index entry of a row (V007), in the row's transaction.</summary>
    public const string InsertPerson =
        "INSERT INTO dbo.audit_person (sequence, person, person_name, account, account_name) VALUES (@Sequence, @Person, @PersonName, @Account, @AccountName);";

    /// <summary>
    /// Per person and account among the index entries whose person or account is one of @Keys (a JSON array) or whose
    /// person or account name is @Name, the newest row: its keys, and the provider, id and name it recorded.
    /// </summary>
    public const string SelectPersonLinks =
        """
        SELECT p.person AS Person, p.person_name AS PersonName, p.account AS Account, l.provider AS Provider,
               l.identity_id AS IdentityId, l.identity_name AS IdentityName, p.sequence AS Sequence
          FROM (SELECT MAX(h.sequence) AS sequence
                  FROM (SELECT sequence, person, account FROM dbo.audit_person
                         WHERE @Keys IS NOT NULL AND person IN (SELECT CAST(value AS nvarchar(470)) FROM OPENJSON(@Keys))
                        UNION
                        SELECT sequence, person, account FROM dbo.audit_person
                         WHERE @Keys IS NOT NULL AND account IN (SELECT CAST(value AS nvarchar(470)) FROM OPENJSON(@Keys))
                        UNION
                        SELECT sequence, person, account FROM dbo.audit_person WHERE @Name IS NOT NULL AND person_name = @Name
                        UNION
                        SELECT sequence, person, account FROM dbo.audit_person WHERE @Name IS NOT NULL AND account_name = @Name) AS h
                 GROUP BY h.person, h.account) AS g
          JOIN dbo.audit_person AS p ON p.sequence = g.sequence
          JOIN dbo.audit_log AS l ON l.sequence = g.sequence
         ORDER BY p.person, p.account
        OPTION (RECOMPILE);
        """;

    private const string Columns =
        """
        sequence AS Sequence, recorded_at AS RecordedAt, run_id AS RunId, host AS Host, engine_version AS EngineVersion,
        actor AS Actor, status AS Status, dry_run AS DryRun, idempotency_key AS IdempotencyKey, intent_sequence AS IntentSequence,
        rule_id AS RuleId, rule_file AS RuleFile, rule_hash AS RuleHash, rules_commit AS RulesCommit, finding_id AS FindingId,
        finding_source AS FindingSource, provider AS Provider, identity_id AS IdentityId, identity_name AS IdentityName,
        action AS Action, parameters AS Parameters, destructive AS Destructive, verdict AS Verdict, guard AS Guard,
        reason AS Reason, error AS Error, prior_state AS PriorState, facts AS Facts, previous_hash AS PreviousHash, hash AS Hash
        """;

    /// <summary>
    /// Every filter of <see cref="AuditQuery"/>, each switched off by a NULL parameter; OPTION (RECOMPILE) lets the optimiser
    /// drop the unset ones and seek the matching index, which one plan for all combinations could not. A time range also
    /// bounds the sequence (the clustered key) between the smallest and largest sequence recorded in the range, read off the
    /// recorded_at index: exact whatever the order of the times, and the page then seeks that sequence range only instead
    /// of walking the trail from its newest row back to the range (as the SQLite store does; property-tested there).
    /// </summary>
    private const string Where =
        """
        WHERE (@AfterSequence IS NULL OR sequence > @AfterSequence)
          AND (@BeforeSequence IS NULL OR sequence < @BeforeSequence)
          AND (@Since IS NULL OR recorded_at >= @Since)
          AND (@Until IS NULL OR recorded_at < @Until)
          AND (@Since IS NULL OR @Until IS NULL OR sequence >= (
              SELECT MIN(b.sequence) FROM dbo.audit_log AS b WITH (INDEX (ix_audit_log_recorded_at))
               WHERE (@Since IS NULL OR b.recorded_at >= @Since) AND (@Until IS NULL OR b.recorded_at < @Until)))
          AND (@Since IS NULL OR @Until IS NULL OR sequence <= (
              SELECT MAX(b.sequence) FROM dbo.audit_log AS b WITH (INDEX (ix_audit_log_recorded_at))
               WHERE (@Since IS NULL OR b.recorded_at >= @Since) AND (@Until IS NULL OR b.recorded_at < @Until)))
          AND (@Identity IS NULL OR identity_id = @Identity OR identity_name = @Identity)
          AND (@Accounts IS NULL OR sequence IN (SELECT p.sequence FROM dbo.audit_person AS p
                                                  WHERE p.account IN (SELECT CAST(value AS nvarchar(470)) FROM OPENJSON(@Accounts))))
          AND (@Guard IS NULL OR guard = @Guard)
          AND (@RunId IS NULL OR run_id = @RunId)
          AND (@Statuses IS NULL OR status IN (SELECT CAST(value AS nvarchar(32)) FROM OPENJSON(@Statuses)))
          AND (@RuleId IS NULL OR rule_id = @RuleId)
          AND (@Action IS NULL OR action = @Action)
          AND (@Provider IS NULL OR provider = @Provider)
          AND (@IdentityId IS NULL OR identity_id = @IdentityId)
          AND (@IdempotencyKey IS NULL OR idempotency_key = @IdempotencyKey)
          AND (@Parameters IS NULL OR parameters = @Parameters)
          AND (@DryRun IS NULL OR dry_run = @DryRun)
          AND (@Destructive IS NULL OR destructive = @Destructive)
        """;

    public const string SelectAscending = "SELECT TOP (@Limit) " + Columns + " FROM dbo.audit_log " + Where + " ORDER BY sequence ASC OPTION (RECOMPILE);";

    public const string SelectDescending = "SELECT TOP (@Limit) " + Columns + " FROM dbo.audit_log " + Where + " ORDER BY sequence DESC OPTION (RECOMPILE);";

    public const string Count = "SELECT COUNT_BIG(*) FROM dbo.audit_log " + Where + " OPTION (RECOMPILE);";

    public const string SelectOpenIntents =
        "SELECT " + Columns + """
         FROM dbo.audit_log AS i
        WHERE i.status = N'intended'
          AND NOT EXISTS (
              SELECT 1 FROM dbo.audit_log AS o
               WHERE o.intent_sequence = i.sequence
                 AND o.status IN (N'succeeded', N'failed', N'noop', N'timed_out'))
        ORDER BY i.sequence;
        """;

    public const string SelectChainPage =
        "SELECT TOP (@Limit) " + Columns + " FROM dbo.audit_log WHERE sequence > @AfterSequence ORDER BY sequence ASC;";

    /// <summary>Every statement the store sends (migration scripts aside, which live in schemas/sqlserver/).</summary>
    public static IReadOnlyList<string> All { get; } =
    [
        CreateMigrationsTable, SelectMigrations, InsertMigration, AcquireSessionLock, ReleaseSessionLock, LockAndSelectLast,
        Insert, SelectAscending, SelectDescending, Count, SelectOpenIntents, SelectChainPage, InsertPerson, SelectPersonLinks,
    ];
}
