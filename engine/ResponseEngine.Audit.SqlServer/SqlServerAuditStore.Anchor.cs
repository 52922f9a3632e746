using System.Data;
using System.Data.Common;
using Dapper;
using Microsoft.Data.SqlClient;

namespace ResponseEngine.Audit.SqlServer;

/// <summary>The signed anchor of the tail (schemas/sqlserver/V004__audit_anchor.sql), replaced inside each append transaction.</summary>
public sealed partial class SqlServerAuditStore : IAnchoredAuditStore
{
    /// <inheritdoc />
    public AuditAnchorKey? AnchorKey { get; set; }

    /// <inheritdoc />
    public async Task<AuditAnchor?> ReadAnchorAsync(CancellationToken cancellationToken)
    {
        await using var connection = await OpenAsync(cancellationToken);
        return await connection.QuerySingleOrDefaultAsync<AuditAnchor>(new CommandDefinition(SqlServerAnchorStatements.Select, cancellationToken: cancellationToken));
    }

    /// <summary>Signs the new tail in the append's own transaction (under the append applock), so anchor and rows commit together.</summary>
    private async Task WriteAnchorAsync(SqlConnection connection, DbTransaction transaction, long sequence, string hash, CancellationToken cancellationToken)
    {
        if (AnchorKey is not { } key) return;
        var anchor = key.Sign(sequence, hash);
        var parameters = new DynamicParameters();
        parameters.Add("Sequence", anchor.Sequence, DbType.Int64);
        parameters.Add("Hash", anchor.Hash, DbType.AnsiStringFixedLength, size: 64);
        parameters.Add("KeyId", anchor.KeyId, DbType.AnsiString, size: 32);
        parameters.Add("Mac", anchor.Mac, DbType.AnsiStringFixedLength, size: 64);
        parameters.Add("SignedAt", _time.GetUtcNow().UtcDateTime, DbType.DateTime2);
        await connection.ExecuteAsync(new CommandDefinition(SqlServerAnchorStatements.Upsert, parameters, transaction, CommandTimeoutSeconds, cancellationToken: cancellationToken));
    }
}

/// <summary>The anchor's T-SQL; SqlTextTests parse every statement as SQL Server 2022 would.</summary>
internal static class SqlServerAnchorStatements
{
    public const string Select = "SELECT sequence AS Sequence, hash AS Hash, key_id AS KeyId, mac AS Mac FROM dbo.audit_anchor WHERE id = 1;";

    /// <summary>Update, else insert: the caller holds the append applock, so no other writer can race for the one row.</summary>
    public const string Upsert = """
        UPDATE dbo.audit_anchor SET sequence = @Sequence, hash = @Hash, key_id = @KeyId, mac = @Mac, signed_at = @SignedAt WHERE id = 1;
        IF @@ROWCOUNT = 0
            INSERT INTO dbo.audit_anchor (id, sequence, hash, key_id, mac, signed_at) VALUES (1, @Sequence, @Hash, @KeyId, @Mac, @SignedAt);
        """;

    public static IReadOnlyList<string> All { get; } = [Select, Upsert];
}
