using Dapper;
using Microsoft.Data.Sqlite;

namespace ResponseEngine.Audit.Sqlite;

/// <summary>The signed anchor of the tail (schemas/sqlite/V003__audit_anchor.sql), replaced inside each append transaction.</summary>
public sealed partial class SqliteAuditStore : IAnchoredAuditStore
{
    /// <inheritdoc />
    public AuditAnchorKey? AnchorKey { get; set; }

    /// <inheritdoc />
    public async Task<AuditAnchor?> ReadAnchorAsync(CancellationToken cancellationToken)
    {
        await using var connection = await OpenAsync(cancellationToken);
        return await connection.QuerySingleOrDefaultAsync<AuditAnchor>(new CommandDefinition(SqliteAnchorStatements.Select, cancellationToken: cancellationToken));
    }

    /// <summary>Signs the new tail in the append's own transaction, so the anchor and the rows commit or roll back together.</summary>
    private async Task WriteAnchorAsync(SqliteConnection connection, SqliteTransaction transaction, long sequence, string hash)
    {
        if (AnchorKey is not { } key) return;
        var anchor = key.Sign(sequence, hash);
        await connection.ExecuteAsync(new CommandDefinition(SqliteAnchorStatements.Upsert,
            new { anchor.Sequence, anchor.Hash, anchor.KeyId, anchor.Mac, SignedAt = SqliteAuditRow.FormatTimestamp(_time.GetUtcNow()) }, transaction)).ConfigureAwait(false);
    }
}

/// <summary>The anchor's SQL.</summary>
internal static class SqliteAnchorStatements
{
    public const string Select = "SELECT sequence AS Sequence, hash AS Hash, key_id AS KeyId, mac AS Mac FROM audit_anchor WHERE id = 1;";

    public const string Upsert = """
        INSERT INTO audit_anchor (id, sequence, hash, key_id, mac, signed_at) VALUES (1, @Sequence, @Hash, @KeyId, @Mac, @SignedAt)
        ON CONFLICT (id) DO UPDATE SET sequence = excluded.sequence, hash = excluded.hash, key_id = excluded.key_id, mac = excluded.mac, signed_at = excluded.signed_at;
        """;
}
