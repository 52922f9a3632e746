using Microsoft.Data.SqlClient;
using ResponseEngine.Audit.SqlServer;

namespace ResponseEngine.Audit.Tests;

/// <summary>
/// The contract on a real SQL Server, when one is at hand: each test gets its own database, created here and dropped after.
/// Without RESPOND_TEST_SQLSERVER every test is skipped, saying how to run them.
/// </summary>
public sealed class SqlServerAuditStoreTests : AuditStoreContract
{
    public const string Variable = "RESPOND_TEST_SQLSERVER";

    private const string HowToRun =
        "SQL Server tests need a server: `docker compose -f docker/compose.yaml up -d sqlserver`, then " +
        "RESPOND_TEST_SQLSERVER='Server=localhost,1433;User ID=sa;Password=<MSSQL_SA_PASSWORD>;TrustServerCertificate=True' " +
        "dotnet test --project tests/ResponseEngine.Audit.Tests";

    private static readonly string? ServerConnectionString = Environment.GetEnvironmentVariable(Variable);

    private readonly string _database = "respond_test_" + Guid.NewGuid().ToString("N")[..12];
    private bool _created;

    protected override string Dialect => "sqlserver";

    private string DatabaseConnectionString => new SqlConnectionStringBuilder(ServerConnectionString) { InitialCatalog = _database }.ConnectionString;

    protected override IAuditStore NewStoreInstance(TimeProvider time)
    {
        Assert.SkipWhen(string.IsNullOrWhiteSpace(ServerConnectionString), HowToRun);
        if (!_created)
        {
            using var master = new SqlConnection(new SqlConnectionStringBuilder(ServerConnectionString) { InitialCatalog = "master" }.ConnectionString);
            master.Open();
            using var create = master.CreateCommand();
            create.CommandText = $"CREATE DATABASE [{_database}]";
            create.ExecuteNonQuery();
            _created = true;
        }

        return SqlServerAuditStore.Open(DatabaseConnectionString, time);
    }

    public override async ValueTask DisposeAsync()
    {
        await base.DisposeAsync();
        if (!_created) return;
        SqlConnection.ClearAllPools();
        await using var master = new SqlConnection(new SqlConnectionStringBuilder(ServerConnectionString) { InitialCatalog = "master" }.ConnectionString);
        await master.OpenAsync();
        await using var drop = master.CreateCommand();
        drop.CommandText = $"ALTER DATABASE [{_database}] SET SINGLE_USER WITH ROLLBACK IMMEDIATE; DROP DATABASE [{_database}];";
        await drop.ExecuteNonQueryAsync();
    }

    protected override async Task<object?> ExecuteRawAsync(string sql)
    {
        await using var connection = new SqlConnection(DatabaseConnectionString);
        await connection.OpenAsync(Ct);
        await using var command = connection.CreateCommand();
        command.CommandText = sql;
        var value = await command.ExecuteScalarAsync(Ct);
        return value is DBNull ? null : value;
    }

    protected override async Task AlterRowByHandAsync(long sequence, string reason)
    {
        await using var connection = new SqlConnection(DatabaseConnectionString);
        await connection.OpenAsync(Ct);
        await using var command = connection.CreateCommand();
        command.CommandText =
            "DISABLE TRIGGER dbo.audit_log_append_only ON dbo.audit_log; " +
            "UPDATE dbo.audit_log SET reason = @reason WHERE sequence = @sequence; " +
            "ENABLE TRIGGER dbo.audit_log_append_only ON dbo.audit_log;";
        command.Parameters.AddWithValue("@reason", reason);
        command.Parameters.AddWithValue("@sequence", sequence);
        await command.ExecuteNonQueryAsync(Ct);
    }

    protected override Task DeleteRowByHandAsync(long sequence) => ExecuteRawAsync(
        "DISABLE TRIGGER dbo.audit_log_append_only ON dbo.audit_log; " +
        $"DELETE FROM dbo.audit_log WHERE sequence = {sequence}; " +
        "ENABLE TRIGGER dbo.audit_log_append_only ON dbo.audit_log;");

    protected override async Task<IReadOnlyList<long>> RecordedMigrationsAsync()
    {
        await using var connection = new SqlConnection(DatabaseConnectionString);
        await connection.OpenAsync(Ct);
        await using var command = connection.CreateCommand();
        command.CommandText = "SELECT version FROM dbo.schema_migrations ORDER BY version";
        var versions = new List<long>();
        await using var reader = await command.ExecuteReaderAsync(Ct);
        while (await reader.ReadAsync(Ct)) versions.Add(reader.GetInt32(0));
        return versions;
    }

    [Fact]
    public async Task Initialize_CreatesTheWriterRole()
    {
        await StoreAsync();

        (await ExecuteRawAsync("SELECT name FROM sys.database_principals WHERE name = N'respond_writer' AND type = 'R'")).Should().Be("respond_writer");
        (await ExecuteRawAsync(
            "SELECT STRING_AGG(permission_name + ':' + state_desc, ',') WITHIN GROUP (ORDER BY permission_name) FROM sys.database_permissions " +
            "WHERE grantee_principal_id = DATABASE_PRINCIPAL_ID(N'respond_writer') AND major_id = OBJECT_ID(N'dbo.audit_log')"))
            .Should().Be("ALTER:DENY,DELETE:DENY,INSERT:GRANT,SELECT:GRANT,UPDATE:DENY");
    }

    [Fact]
    public async Task Append_UnreachableServer_ThrowsAuditWriteExceptionNamingIt()
    {
        Assert.SkipWhen(string.IsNullOrWhiteSpace(ServerConnectionString), HowToRun);
        var unreachable = new SqlConnectionStringBuilder(ServerConnectionString) { DataSource = "tcp:127.0.0.1,1", ConnectTimeout = 2, InitialCatalog = _database }.ConnectionString;
        await using var store = SqlServerAuditStore.Open(unreachable, Time);

        var act = () => store.AppendAsync(Entry(), Ct);

        (await act.Should().ThrowAsync<AuditWriteException>()).Which.Message.Should().Contain("127.0.0.1");
    }
}
