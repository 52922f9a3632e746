using System.Collections.Immutable;
using ResponseEngine.Findings;
using ResponseEngine.Identities;

namespace ResponseEngine.Actions.Catalogue;

/// <summary>Deletes the account's active Entra directory role assignments for the listed roles.</summary>
public sealed class RemoveRoleAssignment : ActionDefinition
{
    public override string Name => "remove_role_assignment";

    public override string Summary => "Delete active directory role assignments of the listed roles (PIM-eligible assignments are reported, not removed)";

    public override ImmutableArray<Provider> Providers => [Provider.Entra];

    public override ImmutableArray<ParameterSpec> Parameters { get; } =
    [
        new("roles", ParameterType.StringList, true, "display names of the directory roles to remove, e.g. Global Administrator"),
    ];

    public override bool Destructive => true;

    public override Reversal Reversal => Reversal.By("re-create the role assignments recorded in the prior state");

    public override ImmutableDictionary<Provider, ImmutableArray<string>> Permissions { get; } = Needs(
        entra: EntraPermissions.With("RoleManagement.ReadWrite.Directory"));

    public override ImmutableArray<string> Preconditions =>
    [
        "only roles the account actively holds; otherwise a no-op",
        "lockout protection: never the last enabled Global Administrators or Privileged Role Administrators",
    ];

    public override PreconditionResult CheckPreconditions(Identity identity, ActionParameters parameters, PrivilegedPolicy policy)
    {
        var held = parameters.Strings("roles").Where(identity.HasRole).ToImmutableArray();
        var narrowed = parameters.With("roles", held);
        return held.IsEmpty
            ? PreconditionResult.Refuse(narrowed, $"holds none of {string.Join(", ", parameters.Strings("roles"))}")
            : PreconditionResult.Allow(narrowed);
    }
}
