using System.Reflection;
using System.Security.Cryptography;
using System.Text;
using System.Text.RegularExpressions;

namespace ResponseEngine.Audit.Sqlite;

/// <summary>A versioned script from schemas/sqlite/, embedded so the store carries its own schema.</summary>
internal sealed record SqliteMigration(int Version, string Name, string Script, string Checksum);

/// <summary>The migrations embedded in this assembly, in version order.</summary>
internal static partial class SqliteMigrations
{
    private const string Prefix = "Migrations.";

    public static IReadOnlyList<SqliteMigration> All { get; } = Load();

    private static List<SqliteMigration> Load()
    {
        var assembly = typeof(SqliteMigrations).Assembly;
        var migrations = new List<SqliteMigration>();
        foreach (var resource in assembly.GetManifestResourceNames().Where(n => n.StartsWith(Prefix, StringComparison.Ordinal)))
        {
            var match = FileName().Match(resource[Prefix.Length..]);
            if (!match.Success) throw new InvalidOperationException($"embedded migration '{resource}' is not named V<number>__<name>.sql");
            var script = Read(assembly, resource).ReplaceLineEndings("\n");
            migrations.Add(new SqliteMigration(
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
}
