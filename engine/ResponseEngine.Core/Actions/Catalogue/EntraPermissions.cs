using System.Collections.Immutable;

namespace ResponseEngine.Actions.Catalogue;

/// <summary>
/// Graph application permissions the Entra connector needs for every action, because every action starts with the
/// identity lookup: the user, its direct and transitive groups, its active role assignments, its Identity Protection risk,
/// and the engine-managed conditional-access policies covering it.
/// </summary>
public static class EntraPermissions
{
    public static ImmutableArray<string> Lookup { get; } =
        ["User.Read.All", "GroupMember.Read.All", "RoleManagement.Read.Directory", "IdentityRiskyUser.Read.All", "Policy.Read.All"];

    /// <summary>An action's own permissions followed by the lookup's, each once; a read the action's ReadWrite grant covers is left out.</summary>
    public static string[] With(params string[] own) =>
        [.. own.Concat(Lookup.Where(read => !own.Contains(read.Replace(".Read.", ".ReadWrite.", StringComparison.Ordinal), StringComparer.Ordinal)))
            .Distinct(StringComparer.Ordinal)];
}
