using System.Text.RegularExpressions;
using Microsoft.SqlServer.TransactSql.ScriptDom;
using ResponseEngine.Audit.Sqlite;
using ResponseEngine.Audit.SqlServer;
using ResponseEngine.TestKit;

namespace ResponseEngine.Audit.Tests;

/// <summary>
/// With no SQL Server here, the T-SQL is checked by parsing it as SQL Server 2022 would (ScriptDom, TSql160Parser); and
/// every statement either store sends, and every migration, is checked never to update or delete audit rows.
/// </summary>
public partial class SqlTextTests
{
    public static TheoryData<int> SqlServerStatementIndexes => new(Enumerable.Range(0, SqlServerStatements.All.Count));

    public static TheoryData<int> SqlServerInboxStatementIndexes => new(Enumerable.Range(0, SqlServerInboxStatements.All.Count));

    public static TheoryData<string> SqlServerScripts => new(Directory.GetFiles(Path.Combine(RepoPaths.Root, "schemas", "sqlserver"), "*.sql").Select(Path.GetFileName)!);

    [Theory]
    [MemberData(nameof(SqlServerStatementIndexes))]
    public void SqlServerStatement_ParsesAsTSql160(int index)
    {
        var errors = Parse(SqlServerStatements.All[index], out _);

        errors.Should().BeEmpty(SqlServerStatements.All[index]);
    }

    [Theory]
    [MemberData(nameof(SqlServerInboxStatementIndexes))]
    public void SqlServerInboxStatement_ParsesAsTSql160(int index)
    {
        var errors = Parse(SqlServerInboxStatements.All[index], out _);

        errors.Should().BeEmpty(SqlServerInboxStatements.All[index]);
    }

    [Fact]
    public void SqlServerInbox_WritesOnlyTheInboxAndCursorsAndNeverDeletes()
    {
        var written = new List<string>();
        var destructive = new List<string>();
        foreach (var text in SqlServerInboxStatements.All)
        {
            Parse(text, out var fragment);
            var targets = new WriteTargetFinder();
            fragment.Accept(targets);
            written.AddRange(targets.Targets);
            var finder = new DestructiveStatementFinder();
            fragment.Accept(finder);
            destructive.AddRange(finder.Found.Where(f => f != "UPDATE"));
            text.Should().NotContainEquivalentOf("audit_log");
        }

        written.Should().OnlyContain(t => t == "dbo.inbox" || t == "dbo.poller_cursor" || t == "next" || t == "dbo.inbox_rejected");
        written.Should().Contain(["dbo.inbox", "next", "dbo.poller_cursor", "dbo.inbox_rejected"]);
        destructive.Should().BeEmpty();
        SqlServerInboxStatements.Lease.Should().Contain("WITH (UPDLOCK, READPAST, ROWLOCK)");
    }

    [Fact]
    public void SqliteInbox_WritesOnlyTheInboxAndCursorsAndNeverDeletes()
    {
        foreach (var text in SqliteInboxStatements.All.Select(StripSqlComments))
        {
            text.Should().NotContainEquivalentOf("audit_log");
            Regex.IsMatch(text, @"\b(DELETE|DROP|TRUNCATE|ALTER|REPLACE)\b", RegexOptions.IgnoreCase).Should().BeFalse(text);
            foreach (Match update in Regex.Matches(text, @"\bUPDATE\s+(?:SET\b|(\w+))", RegexOptions.IgnoreCase))
            {
                if (update.Groups[1].Success) update.Groups[1].Value.Should().BeOneOf("inbox", "poller_cursor", "inbox_rejected");
            }
        }
    }

    [Theory]
    [MemberData(nameof(SqlServerScripts))]
    public void SqlServerMigration_EveryBatchParsesAsTSql160(string file)
    {
        var batches = SqlServerMigrations.SplitBatches(File.ReadAllText(Path.Combine(RepoPaths.Root, "schemas", "sqlserver", file)));

        batches.Should().NotBeEmpty();
        foreach (var batch in batches) Parse(batch, out _).Should().BeEmpty(batch);
    }

    [Fact]
    public void Parse_BrokenTSql_ReportsErrors()
    {
        // The harness itself: a parser that accepted anything would make the two tests above worthless.
        Parse("SELECT TOP (@Limit FROM dbo.audit_log", out _).Should().NotBeEmpty();
        Parse("CREATE TABLE dbo.t (a int) GO", out _).Should().NotBeEmpty();
    }

    [Fact]
    public void SqlServerMigrations_AreEmbeddedAsSentAndEveryFileIsOne()
    {
        var files = Directory.GetFiles(Path.Combine(RepoPaths.Root, "schemas", "sqlserver"), "*.sql");

        SqlServerMigrations.All.Select(m => $"V{m.Version:000}__{m.Name}.sql").Should().BeEquivalentTo(files.Select(Path.GetFileName));
        SqlServerMigrations.All.Select(m => m.Version).Should().BeInAscendingOrder().And.OnlyHaveUniqueItems();
        foreach (var migration in SqlServerMigrations.All)
        {
            migration.Script.Should().Be(File.ReadAllText(files.Single(f => f.EndsWith($"__{migration.Name}.sql", StringComparison.Ordinal))).ReplaceLineEndings("\n"));
        }
    }

    [Fact]
    public void SqliteMigrations_AreEmbeddedAsSentAndEveryFileIsOne()
    {
        var files = Directory.GetFiles(Path.Combine(RepoPaths.Root, "schemas", "sqlite"), "*.sql");

        SqliteMigrations.All.Select(m => $"V{m.Version:000}__{m.Name}.sql").Should().BeEquivalentTo(files.Select(Path.GetFileName));
        SqliteMigrations.All.Select(m => m.Version).Should().BeInAscendingOrder().And.OnlyHaveUniqueItems();
    }

    [Fact]
    public void SqlServer_NoStatementOrMigration_UpdatesDeletesOrTruncates()
    {
        var texts = SqlServerStatements.All.Concat(SqlServerMigrations.All.SelectMany(m => m.Batches()));
        var found = new List<string>();
        foreach (var text in texts)
        {
            Parse(text, out var fragment);
            var visitor = new DestructiveStatementFinder();
            fragment.Accept(visitor);
            found.AddRange(visitor.Found.Select(f => $"{f} in: {text[..Math.Min(80, text.Length)]}"));
        }

        found.Should().BeEmpty("the store only ever INSERTs into and SELECTs from the audit tables");
    }

    [Fact]
    public void SqlServer_TheOnlyMentionOfUpdateOrDelete_IsTheTriggerThatRefusesThem()
    {
        var mentions = SqlServerStatements.All.Concat(SqlServerMigrations.All.SelectMany(m => m.Batches()))
            .Select(StripSqlComments)
            .Where(t => UpdateOrDelete().IsMatch(t))
            .ToList();

        mentions.Should().AllSatisfy(t => t.Should().Match(s =>
            s.Contains("CREATE TRIGGER dbo.audit_log_append_only", StringComparison.Ordinal) || s.Contains("CREATE TRIGGER dbo.inbox_record_is_immutable", StringComparison.Ordinal)
            || s.Contains("CREATE TRIGGER dbo.inbox_rejected_is_immutable", StringComparison.Ordinal)
            || s.Contains("CREATE TRIGGER dbo.audit_person_append_only", StringComparison.Ordinal)
            || s.StartsWith("GRANT", StringComparison.Ordinal)
            || (s.Contains("CREATE TABLE dbo.QRTZ_", StringComparison.Ordinal) && UpdateOrDelete().Matches(s).All(m => s.Contains("ON DELETE CASCADE", StringComparison.Ordinal)))));
        mentions.Should().Contain(t => t.Contains("INSTEAD OF UPDATE, DELETE", StringComparison.Ordinal));
    }

    [Fact]
    public void SqlServerMigration_CreatesAWriterRoleWithInsertAndSelectOnly()
    {
        var grants = new List<(string Verb, string Permission, string Target, string Grantee)>();
        foreach (var batch in SqlServerMigrations.All.SelectMany(m => m.Batches()))
        {
            Parse(batch, out var fragment);
            var visitor = new PermissionFinder();
            fragment.Accept(visitor);
            grants.AddRange(visitor.Found);
        }

        var batches = string.Join("\n", SqlServerMigrations.All.SelectMany(m => m.Batches()));
        batches.Should().Contain("CREATE ROLE respond_writer");
        grants.Where(g => g.Verb == "GRANT" && g.Target == "dbo.audit_log").Select(g => g.Permission).Should().BeEquivalentTo(["INSERT", "SELECT"]);
        grants.Where(g => g.Verb == "GRANT" && g.Grantee == "respond_writer" && g.Target is not ("dbo.inbox" or "dbo.poller_cursor" or "dbo.audit_anchor" or "dbo.inbox_rejected")).Select(g => g.Permission).Should().OnlyContain(p => p == "INSERT" || p == "SELECT");

        // Quartz's clustered job store (V003) manages its own rows; its role is respond_scheduler, never the writer's.
        grants.Where(g => g.Target.StartsWith("dbo.QRTZ_", StringComparison.Ordinal)).Should().OnlyContain(g => g.Verb == "GRANT" && g.Grantee == "respond_scheduler");
        grants.Where(g => g.Grantee == "respond_scheduler").Should().OnlyContain(g => g.Target.StartsWith("dbo.QRTZ_", StringComparison.Ordinal), "the scheduler's role reaches nothing of the trail or the inbox");
        grants.Where(g => g.Verb == "GRANT" && g.Target is "dbo.inbox" or "dbo.poller_cursor" or "dbo.inbox_rejected").Select(g => g.Permission).Should().OnlyContain(p => p == "INSERT" || p == "SELECT" || p == "UPDATE");
        grants.Where(g => g.Verb == "GRANT" && g.Target == "dbo.audit_anchor").Select(g => g.Permission).Should().BeEquivalentTo(["INSERT", "SELECT", "UPDATE"], "the one anchor row is replaced on each append");
        grants.Where(g => g.Verb == "DENY" && g.Target == "dbo.audit_anchor").Select(g => g.Permission).Should().Contain(["DELETE", "ALTER"]);
        grants.Where(g => g.Verb == "DENY" && g.Target == "dbo.inbox").Select(g => g.Permission).Should().Contain(["DELETE", "ALTER"], "a received finding is never removed");
        grants.Where(g => g.Verb == "DENY" && g.Target == "dbo.inbox_rejected").Select(g => g.Permission).Should().Contain(["DELETE", "ALTER"], "a quarantined record is never removed");
        grants.Where(g => g.Verb == "DENY" && g.Target == "dbo.audit_log").Select(g => g.Permission).Should().Contain(["UPDATE", "DELETE", "ALTER"]);
        grants.Where(g => g.Verb == "GRANT" && g.Target == "dbo.audit_person").Select(g => g.Permission).Should().BeEquivalentTo(["INSERT", "SELECT"]);
        grants.Where(g => g.Verb == "DENY" && g.Target == "dbo.audit_person").Select(g => g.Permission).Should().Contain(["UPDATE", "DELETE", "ALTER"]);
    }

    [Fact]
    public void Sqlite_NoStatementOrMigration_UpdatesDeletesOrReplaces()
    {
        var texts = SqliteStatements.All.Concat(SqliteMigrations.All.Select(m => m.Script)).Select(StripSqlComments).Select(t => SqliteTrigger().Replace(t, ""));

        texts.Where(t => DestructiveSqlite().IsMatch(t)).Should().BeEmpty("the store only ever INSERTs into and SELECTs from the audit tables");
    }

    [Fact]
    public void SqliteMigration_HasTriggersThatAbortUpdateAndDelete()
    {
        var script = SqliteMigrations.All.Single(m => m.Version == 1).Script;

        SqliteTrigger().Matches(script).Select(m => m.Value).Should().SatisfyRespectively(
            update => update.Should().Contain("BEFORE UPDATE ON audit_log").And.Contain("RAISE(ABORT"),
            delete => delete.Should().Contain("BEFORE DELETE ON audit_log").And.Contain("RAISE(ABORT"));
    }

    [Theory]
    [InlineData(nameof(SqlServerStatements.SelectDescending))]
    [InlineData(nameof(SqlServerStatements.SelectAscending))]
    [InlineData(nameof(SqlServerStatements.Count))]
    public void SqlServerSearch_ATimeRangeBoundsTheSequenceOffTheRecordedAtIndex(string statement)
    {
        var text = (string)typeof(SqlServerStatements).GetField(statement)!.GetValue(null)!;
        Parse(text, out var fragment).Should().BeEmpty();
        var visitor = new SequenceBoundFinder();
        fragment.Accept(visitor);

        // sequence >= (SELECT MIN(b.sequence) ... WITH (INDEX (ix_audit_log_recorded_at)) WHERE the range) and <= the MAX likewise.
        visitor.Bounds.Should().BeEquivalentTo([("GreaterThanOrEqualTo", "MIN"), ("LessThanOrEqualTo", "MAX")]);
        visitor.IndexHints.Should().Equal("ix_audit_log_recorded_at", "ix_audit_log_recorded_at");
    }

    private sealed class SequenceBoundFinder : TSqlFragmentVisitor
    {
        public List<(string Comparison, string Aggregate)> Bounds { get; } = [];

        public List<string> IndexHints { get; } = [];

        public override void Visit(BooleanComparisonExpression node)
        {
            if (node.FirstExpression is ColumnReferenceExpression { MultiPartIdentifier.Identifiers: [{ Value: "sequence" }] }
                && node.SecondExpression is ScalarSubquery { QueryExpression: QuerySpecification query }
                && query.SelectElements is [SelectScalarExpression { Expression: FunctionCall call }]
                && query.WhereClause?.ToString() is not null)
            {
                Bounds.Add((node.ComparisonType.ToString(), call.FunctionName.Value.ToUpperInvariant()));
            }
        }

        public override void Visit(IndexTableHint node) => IndexHints.AddRange(node.IndexValues.Select(v => v.Value));
    }

    internal static IList<ParseError> Parse(string sql, out TSqlFragment fragment)
    {
        var parser = new TSql160Parser(initialQuotedIdentifiers: true);
        using var reader = new StringReader(sql);
        fragment = parser.Parse(reader, out var errors);
        return errors;
    }

    private static string StripSqlComments(string sql) => LineComment().Replace(sql, "").Trim();

    [GeneratedRegex(@"--[^\n]*")]
    private static partial Regex LineComment();

    [GeneratedRegex(@"\b(UPDATE|DELETE)\b", RegexOptions.IgnoreCase)]
    private static partial Regex UpdateOrDelete();

    [GeneratedRegex(@"\b(UPDATE|DELETE|REPLACE|TRUNCATE|DROP|ALTER)\b", RegexOptions.IgnoreCase)]
    private static partial Regex DestructiveSqlite();

    [GeneratedRegex(@"CREATE TRIGGER .*?\bEND;", RegexOptions.Singleline)]
    private static partial Regex SqliteTrigger();

    private sealed class DestructiveStatementFinder : TSqlFragmentVisitor
    {
        public List<string> Found { get; } = [];

        public override void Visit(UpdateStatement node) => Found.Add("UPDATE");

        public override void Visit(DeleteStatement node) => Found.Add("DELETE");

        public override void Visit(MergeStatement node) => Found.Add("MERGE");

        public override void Visit(TruncateTableStatement node) => Found.Add("TRUNCATE");

        public override void Visit(DropTableStatement node) => Found.Add("DROP TABLE");

        public override void Visit(EnableDisableTriggerStatement node) => Found.Add("ENABLE/DISABLE TRIGGER");
    }

    private sealed class WriteTargetFinder : TSqlFragmentVisitor
    {
        public List<string> Targets { get; } = [];

        public override void Visit(UpdateSpecification node) => Add(node.Target);

        public override void Visit(InsertSpecification node) => Add(node.Target);

        private void Add(TableReference target)
        {
            if (target is NamedTableReference named) Targets.Add(string.Join(".", named.SchemaObject.Identifiers.Select(i => i.Value)));
        }
    }

    private sealed class PermissionFinder : TSqlFragmentVisitor
    {
        public List<(string Verb, string Permission, string Target, string Grantee)> Found { get; } = [];

        public override void Visit(GrantStatement node) => Add("GRANT", node.Permissions, node.SecurityTargetObject, node.Principals);

        public override void Visit(DenyStatement node) => Add("DENY", node.Permissions, node.SecurityTargetObject, node.Principals);

        private void Add(string verb, IList<Permission> permissions, SecurityTargetObject target, IList<SecurityPrincipal> principals)
        {
            var name = string.Join(".", target.ObjectName.MultiPartIdentifier.Identifiers.Select(i => i.Value));
            foreach (var permission in permissions)
            {
                foreach (var principal in principals)
                {
                    Found.Add((verb, string.Join(" ", permission.Identifiers.Select(i => i.Value.ToUpperInvariant())), name, principal.Identifier?.Value ?? principal.PrincipalType.ToString()));
                }
            }
        }
    }
}
