using System.Collections.Frozen;
using System.Collections.Immutable;
using ResponseEngine.Findings;
using ResponseEngine.Identities;
using ResponseEngine.Identities.Privilege;

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
        "only roles assigned to the account itself and active; roles held through a group, or only PIM-eligible, are reported",
        "lockout protection: never the last enabled Global Administrators or Privileged Role Administrators",
    ];

    public override PreconditionResult CheckPreconditions(Identity identity, ActionParameters parameters, PrivilegedPolicy policy)
    {
        var named = parameters.Strings("roles");
        var held = named.Where(identity.HasDirectRole).ToImmutableArray();
        var narrowed = parameters.With("roles", held);
        var notes = new List<string>();
        var viaGroup = named.Where(r => identity.HasRole(r) && !identity.HasDirectRole(r)).ToList();
        if (viaGroup.Count > 0) notes.Add($"held through a group, not assigned to the account (remove it from the group instead): {string.Join(", ", viaGroup)}");
        var eligible = named.Where(r => !identity.HasRole(r) && identity.EligibleRoles.Contains(r, StringComparer.OrdinalIgnoreCase)).ToList();
        if (eligible.Count > 0) notes.Add($"PIM-eligible only, not active: {string.Join(", ", eligible)}");
        var note = notes.Count > 0 ? string.Join("; ", notes) : null;
        return held.IsEmpty
            ? PreconditionResult.Refuse(narrowed, note ?? $"holds none of {string.Join(", ", named)}")
            : PreconditionResult.Allow(narrowed, note);
    }

    /// <summary>The user's own Role edges: a role it also holds through a group stays held.</summary>
    public override ImmutableArray<GraphEdit> Effect(string targetId, ActionParameters parameters) =>
        [.. parameters.Strings("roles").Select(role => new GraphEdit.RemoveEdge(targetId, role, EdgeKind.Role))];

    public override Identity Expected(Identity identity, ActionParameters parameters)
    {
        var removed = parameters.Strings("roles").ToHashSet(StringComparer.OrdinalIgnoreCase);
        var direct = identity.DirectRoles.Where(r => !removed.Contains(r)).ToImmutableArray();
        var viaGroups = identity.Roles.Where(r => !identity.HasDirectRole(r));
        var roles = direct.Concat(viaGroups).ToImmutableArray();
        return identity with { DirectRoles = direct, Roles = roles, RoleSet = roles.ToFrozenSet(StringComparer.OrdinalIgnoreCase) };
    }
}
