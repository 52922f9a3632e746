using System.Reflection;
using System.Security.Cryptography;
using System.Text;
using System.Text.RegularExpressions;

namespace ResponseEngine.Audit.SqlServer;

/// <summary>A versioned script from schemas/sqlserver/, embedded so the store carries its own schema; sent batch by batch.</summary>
internal sealed record SqlServerMigration(int Version, string Name, string Script, string Checksum)
{
    public IReadOnlyList<string> Batches => SqlServerMigrations.SplitBatches(Script);
}

/// <summary>The migrations embedded in this assembly, in version order, and the GO splitter that sqlcmd would apply.</summary>
internal static partial class SqlServerMigrations
{
    private const string Prefix = "Migrations.";

    public static IReadOnlyList<SqlServerMigration> All { get; } = Load();

    /// <summary>Splits a script on lines that hold only GO (any case, optional trailing comment), dropping empty batches.</summary>
    public static IReadOnlyList<string> SplitBatches(string script) =>
        GoLine().Split(script.ReplaceLineEndings("\n")).Select(b => b.Trim()).Where(b => b.Length > 0 && !IsOnlyComments(b)).ToList();

    private static bool IsOnlyComments(string batch) =>
        batch.Split('\n').All(line => line.Trim().Length == 0 || line.TrimStart().StartsWith("--", StringComparison.Ordinal));

    private static List<SqlServerMigration> Load()
    {
        var assembly = typeof(SqlServerMigrations).Assembly;
        var migrations = new List<SqlServerMigration>();
        foreach (var resource in assembly.GetManifestResourceNames().Where(n => n.StartsWith(Prefix, StringComparison.Ordinal)))
        {
            var match = FileName().Match(resource[Prefix.Length..]);
            if (!match.Success) throw new InvalidOperationException($"embedded migration '{resource}' is not named V<number>__<name>.sql");
            var script = Read(assembly, resource).ReplaceLineEndings("\n");
            migrations.Add(new SqlServerMigration(
                int.Parse(match.Groups[1].Value, System.Globalization.CultureInfo.InvariantCulture),
                match.Groups[2].Value,
                script,
                Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(script)))));
        }

        migrations.Sort((a, b) => a.Version.CompareTo(b.Version));
        return migrations;
    }

    private static string Read(Assembly assembly, string resource)
    {
        using var stream = assembly.GetManifestResourceStream(resource)!;
        using var reader = new StreamReader(stream, Encoding.UTF8);
        return reader.ReadToEnd();
    }

    [GeneratedRegex(@"^V(\d+)__([A-Za-z0-9_]+)\.sql$")]
    private static partial Regex FileName();

    [GeneratedRegex(@"^[ \t]*GO[ \t]*(?:--[^\n]*)?$", RegexOptions.Multiline | RegexOptions.IgnoreCase)]
    private static partial Regex GoLine();
}
