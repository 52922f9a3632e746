using System.Text.RegularExpressions;

namespace ResponseEngine.Audit.SqlServer;

/// <summary>The migrations from schemas/sqlserver/ embedded in this assembly, in version order, and the GO splitter that sqlcmd would apply.</summary>
internal static partial class SqlServerMigrations
{
    public static IReadOnlyList<Migration> All { get; } = EmbeddedMigrations.Load(typeof(SqlServerMigrations).Assembly, "Migrations.");

    /// <summary>A migration's batches, as sqlcmd would send them.</summary>
    public static IReadOnlyList<string> Batches(this Migration migration) => SplitBatches(migration.Script);

    /// <summary>Splits a script on lines that hold only GO (any case, optional trailing comment), dropping empty batches.</summary>
    public static IReadOnlyList<string> SplitBatches(string script) =>
        GoLine().Split(script.ReplaceLineEndings("\n")).Select(b => b.Trim()).Where(b => b.Length > 0 && !IsOnlyComments(b)).ToList();

    private static bool IsOnlyComments(string batch) =>
        batch.Split('\n').All(line => line.Trim().Length == 0 || line.TrimStart().StartsWith("--", StringComparison.Ordinal));

    [GeneratedRegex(@"^[ \t]*GO[ \t]*(?:--[^\n]*)?$", RegexOptions.Multiline | RegexOptions.IgnoreCase)]
    private static partial Regex GoLine();
}
