namespace ResponseEngine.Audit.Sqlite;

/// <summary>The migrations from schemas/sqlite/ embedded in this assembly, in version order.</summary>
internal static class SqliteMigrations
{
    public static IReadOnlyList<Migration> All { get; } = EmbeddedMigrations.Load(typeof(SqliteMigrations).Assembly, "Migrations.");
}
