using Microsoft.Data.Sqlite;
using ResponseEngine.Audit.Sqlite;
using ResponseEngine.TestKit;

namespace ResponseEngine.Audit.Tests;

/// <summary>
/// The console's activity search reads a first page straight off an index (migration V005): for each filter, SQLite's
/// plan for `WHERE filter AND sequence &lt; @before ORDER BY sequence DESC LIMIT n` uses an index and sorts nothing, so a
/// page costs the same on a trail of a thousand rows or a million. (The identity filter matches id OR name: two index
/// lookups whose rows — one account's — are sorted.) The timings are measured in bench/, not here.
/// </summary>
public sealed class SqliteSearchPlanTests : IAsyncLifetime
{
    private readonly TempDirectory _directory = new();

    private string DatabasePath => Path.Combine(_directory.Path, SqliteAuditStore.DefaultFileName);

    public async ValueTask InitializeAsync()
    {
        await using var store = SqliteAuditStore.Open(DatabasePath, TimeProvider.System);
        await store.InitializeAsync(TestContext.Current.CancellationToken);
    }

    public ValueTask DisposeAsync()
    {
        SqliteConnection.ClearAllPools();
        _directory.Dispose();
        return ValueTask.CompletedTask;
    }

    public static TheoryData<string, string, object> Filters() => new()
    {
        { SqliteStatements.Filters.RuleId, "RuleId", "ad-weak-password" },
        { SqliteStatements.Filters.Action, "Action", "disable_user" },
        { SqliteStatements.Filters.Provider, "Provider", "okta" },
        { SqliteStatements.Filters.Guard, "Guard", "rate_limited" },
        { SqliteStatements.Filters.Status, "Status", "skipped" },
        { SqliteStatements.Filters.IdentityId, "IdentityId", "00u1" },
        { SqliteStatements.Filters.RunId, "RunId", "20261126T0800-abc123" },
    };

    [Theory]
    [MemberData(nameof(Filters))]
    public async Task FirstPage_OfEachFilter_IsReadOffAnIndexWithoutSorting(string filter, string name, object value)
    {
        var plan = await PlanAsync(filter, (name, value));

        plan.Should().Contain("USING", "an index serves the filter").And.NotContain("TEMP B-TREE", "the index gives sequence order: nothing is sorted");
        plan.Should().NotMatchRegex(@"SCAN audit_log(?! USING)", "the table is never scanned whole");
    }

    [Fact]
    public async Task FirstPage_OfAnIdentity_UsesTheIndexesOfIdAndName()
    {
        var plan = await PlanAsync(SqliteStatements.Filters.Identity, ("Identity", "alice@corp.example"));

        plan.Should().Contain("ix_audit_log_identity_id").And.Contain("ix_audit_log_search_identity_name");
        plan.Should().NotMatchRegex(@"SCAN audit_log(?! USING)");
    }

    [Fact]
    public async Task APersonsRows_AreFoundThroughThePersonIndex_NeverByScanningTheTrail()
    {
        // `respond audit list --person` and the console's person timeline (#21): rows about the person's accounts (V006).
        var plan = await PlanAsync(SqliteStatements.Filters.Accounts, ("Accounts", """["ad:A1","entra:E-ALICE"]"""));

        plan.Should().Contain("ix_audit_person_account");
        plan.Should().NotMatchRegex(@"SCAN audit_log(?! USING)").And.NotMatchRegex(@"SCAN audit_person(?! USING)");
    }

    [Fact]
    public async Task APersonsAccounts_AreFoundThroughThePersonIndex_NeverByScanningTheTrail()
    {
        var filter = string.Join(" UNION ", SqliteStatements.PersonFilters.Person, SqliteStatements.PersonFilters.Account,
            SqliteStatements.PersonFilters.PersonName, SqliteStatements.PersonFilters.AccountName);
        var plan = await ExplainAsync(SqliteStatements.SelectPersonLinks.Replace("{0}", filter, StringComparison.Ordinal),
            ("Keys", """["ad:A1"]"""), ("Name", "alice"));

        plan.Should().Contain("ix_audit_person_person").And.Contain("ix_audit_person_account").And.Contain("ix_audit_person_person_name").And.Contain("ix_audit_person_account_name");
        plan.Should().NotMatchRegex(@"SCAN audit_log(?! USING)").And.NotMatchRegex(@"SCAN (p|audit_person)(?! USING)");
    }

    private Task<string> PlanAsync(string filter, (string Name, object Value) parameter) =>
        ExplainAsync(SqliteStatements.SelectRows + " WHERE " + filter + " AND " + SqliteStatements.Filters.BeforeSequence
            + SqliteStatements.OrderDescending + SqliteStatements.LimitClause, parameter, ("BeforeSequence", 1_000_000L), ("Limit", 51));

    private async Task<string> ExplainAsync(string sql, params (string Name, object Value)[] parameters)
    {
        await using var connection = new SqliteConnection($"Data Source={DatabasePath};Mode=ReadOnly");
        await connection.OpenAsync(TestContext.Current.CancellationToken);
        await using var command = connection.CreateCommand();
        command.CommandText = "EXPLAIN QUERY PLAN " + sql;
        foreach (var (name, value) in parameters) command.Parameters.AddWithValue("@" + name, value);
        var lines = new List<string>();
        await using var reader = await command.ExecuteReaderAsync(TestContext.Current.CancellationToken);
        while (await reader.ReadAsync(TestContext.Current.CancellationToken)) lines.Add(reader.GetString(3));
        return string.Join('\n', lines);
    }
}
