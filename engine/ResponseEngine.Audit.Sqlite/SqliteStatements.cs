namespace ResponseEngine.Audit.Sqlite;

/// <summary>Every SQL text the SQLite store sends, in one place so a test can prove none of it updates or deletes audit rows.</summary>
internal static class SqliteStatements
{
    /// <summary>Per connection: wait for the writer instead of failing at once, and make every commit durable (fsync of the WAL).</summary>
    /// <remarks>PRAGMA takes no bound parameters, so the timeout is formatted in as an integer.</remarks>
    public const string Pragmas = "PRAGMA busy_timeout = {0}; PRAGMA synchronous = FULL;";

    public const string JournalMode = "PRAGMA journal_mode;";

    public const string EnableWal = "PRAGMA journal_mode = WAL;";

    public const string CreateMigrationsTable =
        """
        CREATE TABLE IF NOT EXISTS schema_migrations (
            version    INTEGER NOT NULL PRIMARY KEY,
            name       TEXT    NOT NULL,
            checksum   TEXT    NOT NULL,
            applied_at TEXT    NOT NULL
        ) STRICT;
        """;

    public const string SelectMigrations = "SELECT version AS Version, name AS Name, checksum AS Checksum FROM schema_migrations ORDER BY version;";

    public const string InsertMigration =
        "INSERT INTO schema_migrations (version, name, checksum, applied_at) VALUES (@Version, @Name, @Checksum, @AppliedAt);";

    public const string SelectLast = "SELECT sequence AS Sequence, hash AS Hash FROM audit_log ORDER BY sequence DESC LIMIT 1;";

    public const string Insert =
        """
        INSERT INTO audit_log (
            sequence, recorded_at, run_id, host, engine_version, actor, status, dry_run, idempotency_key, intent_sequence,
            rule_id, rule_file, rule_hash, rules_commit, finding_id, finding_source, provider, identity_id, identity_name,
            action, parameters, destructive, verdict, guard, reason, error, prior_state, facts, previous_hash, hash)
        VALUES (
            @Sequence, @RecordedAt, @RunId, @Host, @EngineVersion, @Actor, @Status, @DryRun, @IdempotencyKey, @IntentSequence,
            @RuleId, @RuleFile, @RuleHash, @RulesCommit, @FindingId, @FindingSource, @Provider, @IdentityId, @IdentityName,
            @Action, @Parameters, @Destructive, @Verdict, @Guard, @Reason, @Error, @PriorState, @Facts, @PreviousHash, @Hash);
        """;

    /// <summary>The person index entry of a row (V006), in the row's transaction.</summary>
    public const string InsertPerson =
        "INSERT INTO audit_person (sequence, person, person_name, account, account_name) VALUES (@Sequence, @Person, @PersonName, @Account, @AccountName);";

    /// <summary>
    /// Per person and account among the index entries that the searches (<see cref="PersonFilters"/>, joined by UNION, each
    /// an index search) find, the newest row: its keys, and the provider, id and name it recorded. The searches are a
    /// compound subquery, so SQLite runs each on its index and groups only what they found.
    /// </summary>
    public const string SelectPersonLinks =
        """
        SELECT p.person AS Person, p.person_name AS PersonName, p.account AS Account, l.provider AS Provider,
               l.identity_id AS IdentityId, l.identity_name AS IdentityName, p.sequence AS Sequence
          FROM (SELECT MAX(sequence) AS sequence FROM ({0}) GROUP BY person, account) AS g
          JOIN audit_person AS p ON p.sequence = g.sequence
          JOIN audit_log AS l ON l.sequence = g.sequence
         ORDER BY p.person, p.account;
        """;

    /// <summary>The person-index searches, UNION'd; each added only when set, so each uses its own index.</summary>
    public static class PersonFilters
    {
        public const string Person = "SELECT sequence, person, account FROM audit_person WHERE person IN (SELECT value FROM json_each(@Keys))";
        public const string Account = "SELECT sequence, person, account FROM audit_person WHERE account IN (SELECT value FROM json_each(@Keys))";
        public const string PersonName = "SELECT sequence, person, account FROM audit_person WHERE person_name = @Name COLLATE NOCASE";
        public const string AccountName = "SELECT sequence, person, account FROM audit_person WHERE account_name = @Name COLLATE NOCASE";
    }

    public const string Columns =
        """
        sequence AS Sequence, recorded_at AS RecordedAt, run_id AS RunId, host AS Host, engine_version AS EngineVersion,
        actor AS Actor, status AS Status, dry_run AS DryRun, idempotency_key AS IdempotencyKey, intent_sequence AS IntentSequence,
        rule_id AS RuleId, rule_file AS RuleFile, rule_hash AS RuleHash, rules_commit AS RulesCommit, finding_id AS FindingId,
        finding_source AS FindingSource, provider AS Provider, identity_id AS IdentityId, identity_name AS IdentityName,
        action AS Action, parameters AS Parameters, destructive AS Destructive, verdict AS Verdict, guard AS Guard,
        reason AS Reason, error AS Error, prior_state AS PriorState, facts AS Facts, previous_hash AS PreviousHash, hash AS Hash
        """;

    public const string SelectRows = "SELECT " + Columns + " FROM audit_log";

    public const string CountRows = "SELECT COUNT(*) FROM audit_log";

    /// <summary>
    /// The query filters, each added only when set: SQLite plans a statement once, so "(@x IS NULL OR col = @x)"
    /// would scan the table on every rate-limit count; composing from these fixed fragments keeps the indexes in use.
    /// </summary>
    public static class Filters
    {
        public const string AfterSequence = "sequence > @AfterSequence";
        public const string BeforeSequence = "sequence < @BeforeSequence";
        public const string Since = "recorded_at >= @Since";
        public const string Until = "recorded_at < @Until";
        public const string Identity = "(identity_id = @Identity OR identity_name = @Identity)";

        /// <summary>Rows about these accounts (person-index keys), found through the account index of audit_person.</summary>
        public const string Accounts = "sequence IN (SELECT sequence FROM audit_person WHERE account IN (SELECT value FROM json_each(@Accounts)))";
        public const string Guard = "guard = @Guard";
        public const string RunId = "run_id = @RunId";
        public const string Statuses = "status IN (SELECT value FROM json_each(@Statuses))";

        /// <summary>One status: an equality the status index serves in sequence order (a set of them is sorted).</summary>
        public const string Status = "status = @Status";
        public const string RuleId = "rule_id = @RuleId";
        public const string Action = "action = @Action";
        public const string Provider = "provider = @Provider";
        public const string IdentityId = "identity_id = @IdentityId";
        public const string IdempotencyKey = "idempotency_key = @IdempotencyKey";
        public const string Parameters = "parameters = @Parameters";
        public const string DryRun = "dry_run = @DryRun";

        public const string Destructive = "destructive = @Destructive";

        /// <summary>
        /// With a time range, the sequence is bounded first: between the smallest and the largest sequence whose recorded_at
        /// is in the range ({0}: the range's own clauses), each read off the recorded_at index (which carries the sequence as
        /// its rowid: an index-only scan of the range's entries). Exact whatever the order of the times, since every row in
        /// the range lies between those two; the page then walks that sequence range only, never the trail after or before
        /// it (a day in the middle of a year's trail reads the day, not the months since).
        /// </summary>
        public const string SequenceWithinTimeRange =
            "sequence >= (SELECT MIN(sequence) FROM audit_log INDEXED BY ix_audit_log_recorded_at WHERE {0})"
            + " AND sequence <= (SELECT MAX(sequence) FROM audit_log INDEXED BY ix_audit_log_recorded_at WHERE {0})";
    }

    public const string OrderAscending = " ORDER BY sequence ASC";

    public const string OrderDescending = " ORDER BY sequence DESC";

    public const string LimitClause = " LIMIT @Limit";

    public const string SelectOpenIntents =
        "SELECT " + Columns + """
         FROM audit_log AS i
        WHERE i.status = 'intended'
          AND NOT EXISTS (
              SELECT 1 FROM audit_log AS o
               WHERE o.intent_sequence = i.sequence
                 AND o.status IN ('succeeded', 'failed', 'noop', 'timed_out'))
        ORDER BY i.sequence;
        """;

    /// <summary>
    /// The rows of a guard batch's accounts (<see cref="IAuditStore.ReadTargetsAsync"/>): by the identity id index, the
    /// provider and action checked in memory on the few rows it finds.
    /// </summary>
    public const string SelectTargetRows =
        "SELECT " + Columns + """
         FROM audit_log
        WHERE identity_id IN (SELECT value FROM json_each(@IdentityIds))
          AND dry_run = 0
          AND status IN ('intended', 'succeeded', 'noop', 'failed', 'timed_out')
        ORDER BY sequence;
        """;

    public const string SelectChainPage =
        "SELECT " + Columns + " FROM audit_log WHERE sequence > @AfterSequence ORDER BY sequence ASC LIMIT @Limit;";

    /// <summary>Every statement and fragment above, for the tests that read them.</summary>
    public static IReadOnlyList<string> All { get; } =
    [
        Pragmas, JournalMode, EnableWal, CreateMigrationsTable, SelectMigrations, InsertMigration, SelectLast, Insert,
        InsertPerson, SelectPersonLinks, PersonFilters.Person, PersonFilters.Account, PersonFilters.PersonName, PersonFilters.AccountName, Filters.Accounts,
        SelectRows, CountRows, Filters.AfterSequence, Filters.BeforeSequence, Filters.Since, Filters.Until, Filters.Identity, Filters.Guard, Filters.RunId, Filters.Statuses, Filters.Status, Filters.RuleId,
        Filters.Action, Filters.Provider, Filters.IdentityId, Filters.IdempotencyKey, Filters.Parameters, Filters.DryRun, Filters.Destructive, Filters.SequenceWithinTimeRange, OrderAscending,
        OrderDescending, LimitClause, SelectOpenIntents, SelectTargetRows, SelectChainPage,
    ];
}
