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
        var migrations = new List<Migration>();
        foreach (var resource in assembly.GetManifestResourceNames().Where(n => n.StartsWith(resourcePrefix, StringComparison.Ordinal)))
        {
            var match = FileName().Match(resource[resourcePrefix.Length..]);
            if (!match.Success) throw new InvalidOperationException($"embedded migration '{resource}' is not named V<number>__<name>.sql");
            using var stream = assembly.GetManifestResourceStream(resource)!;
            using var reader = new StreamReader(stream, Encoding.UTF8);
            var script = reader.ReadToEnd().ReplaceLineEndings("\n");
            migrations.Add(new Migration(
                int.Parse(match.Groups[1].Value, CultureInfo.InvariantCulture),
                match.Groups[2].Value,
                script,
                Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(script)))));
        }

        migrations.Sort((a, b) => a.Version.CompareTo(b.Version));
        return migrations;
    }

    [GeneratedRegex(@"^V(\d+)__([A-Za-z0-9_]+)\.sql$")]
    private static partial Regex FileName();
}
