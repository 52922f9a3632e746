using System.Globalization;
using System.Reflection;
using System.Security.Cryptography;
using System.Text;
using System.Text.RegularExpressions;

namespace ResponseEngine.Audit;

/// <summary>A versioned schema script (schemas/&lt;store&gt;/V001__name.sql), embedded so a store carries its own schema.</summary>
public sealed record Migration(int Version, string Name, string Script, string Checksum)
{
    /// <summary>A script changed after it was applied is refused: the schema would no longer be what the trail was written with.</summary>
    public void EnsureUnchanged(string appliedChecksum, string store)
    {
        if (!string.Equals(appliedChecksum.Trim(), Checksum, StringComparison.OrdinalIgnoreCase))
        {
            throw new InvalidOperationException($"{store}: migration V{Version:000}__{Name} was changed after it was applied (checksum {appliedChecksum.Trim()[..Math.Min(12, appliedChecksum.Trim().Length)]} in the database, {Checksum[..12]} now): add a new migration instead");
        }
    }
}

/// <summary>Reads the migrations embedded in a store's assembly, in version order.</summary>
public static partial class EmbeddedMigrations
{
    public static IReadOnlyList<Migration> Load(Assembly assembly, string resourcePrefix)
    {
        ArgumentNullException.ThrowIfNull(assembly);
        return FromScripts(assembly.GetManifestResourceNames().Where(n => n.StartsWith(resourcePrefix, StringComparison.Ordinal)).Select(resource =>
        {
            using var stream = assembly.GetManifestResourceStream(resource)!;
            using var reader = new StreamReader(stream, Encoding.UTF8);
            return (resource[resourcePrefix.Length..], reader.ReadToEnd());
        }));
    }

    /// <summary>Migrations from (file name, script) pairs, in version order; a badly named file or two of one version are refused.</summary>
    public static IReadOnlyList<Migration> FromScripts(IEnumerable<(string FileName, string Script)> scripts)
    {
        ArgumentNullException.ThrowIfNull(scripts);
        var migrations = new List<Migration>();
        foreach (var (fileName, text) in scripts)
        {
            var match = FileName().Match(fileName);
            if (!match.Success) throw new InvalidOperationException($"embedded migration '{fileName}' is not named V<number>__<name>.sql");
            var script = text.ReplaceLineEndings("\n");
            migrations.Add(new Migration(
                int.Parse(match.Groups[1].Value, CultureInfo.InvariantCulture),
                match.Groups[2].Value,
                script,
                Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(script)))));
        }

        migrations.Sort((a, b) => a.Version.CompareTo(b.Version));

        // Two scripts of one version: the store would record the version once and never apply the other.
        if (migrations.GroupBy(m => m.Version).FirstOrDefault(g => g.Count() > 1) is { } clash)
        {
            throw new InvalidOperationException($"migrations {string.Join(" and ", clash.OrderBy(m => m.Name, StringComparer.Ordinal).Select(m => $"V{m.Version:000}__{m.Name}"))} share version {clash.Key}: give the newer one the next free number");
        }

        return migrations;
    }

    [GeneratedRegex(@"^V(\d+)__([A-Za-z0-9_]+)\.sql$")]
    private static partial Regex FileName();
}
