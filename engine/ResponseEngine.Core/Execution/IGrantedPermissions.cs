using System.Collections.Immutable;

namespace ResponseEngine.Execution;

/// <summary>A connector that can read back what its own account was granted, so `respond doctor` can show what is missing before a run fails on it.</summary>
public interface IGrantedPermissions
{
    Task<GrantedPermissions> ReadGrantedAsync(CancellationToken cancellationToken);
}

/// <summary>
/// What the connector's account holds, named as `respond permissions` names what the rules need when
/// <paramref name="Comparable"/> (Graph application permissions, Okta scopes), otherwise in the directory's own terms
/// (Okta admin roles behind an API token); <paramref name="Source"/> says where it was read.
/// </summary>
public sealed record GrantedPermissions(ImmutableArray<string> Granted, bool Comparable, string Source)
{
    /// <summary>
    /// The needed permissions (first word of each `respond permissions` line) the granted ones do not cover: a
    /// ReadWrite or manage permission covers its Read or read one, Directory.Read(Write).All covers the user and group
    /// reads. Lines that are not a permission name (an AD right, "a privileged role …") are left out: they cannot be read back.
    /// </summary>
    public ImmutableArray<string> Missing(IEnumerable<string> needed)
    {
        ArgumentNullException.ThrowIfNull(needed);
        if (!Comparable) return [];
        var granted = Granted.ToHashSet(StringComparer.OrdinalIgnoreCase);
        return [.. needed.Select(n => n.Split(' ', 2)[0]).Where(n => n.Contains('.', StringComparison.Ordinal))
            .Distinct(StringComparer.OrdinalIgnoreCase).Where(n => !Covered(n, granted)).Order(StringComparer.Ordinal)];
    }

    private static bool Covered(string permission, HashSet<string> granted) =>
        granted.Contains(permission)
        || granted.Contains(permission.Replace(".Read.", ".ReadWrite.", StringComparison.Ordinal))
        || (permission.StartsWith("okta.", StringComparison.Ordinal) && permission.EndsWith(".read", StringComparison.Ordinal) && granted.Contains(permission[..^".read".Length] + ".manage"))
        || (permission is "User.Read.All" or "GroupMember.Read.All" && (granted.Contains("Directory.Read.All") || granted.Contains("Directory.ReadWrite.All")))
        || (permission == "Directory.Read.All" && granted.Contains("Directory.ReadWrite.All"));
}
