using System.Collections.Frozen;
using System.Collections.Immutable;
using ResponseEngine.Findings;
using ResponseEngine.Identities;
using ResponseEngine.Identities.Privilege;

namespace ResponseEngine.Actions.Catalogue;

/// <summary>Removes the account from listed groups it is a direct member of, typically privileged ones.</summary>
public sealed class RevokeGroup : ActionDefinition
{
    public override string Name => "revoke_group";

    public override string Summary => "Remove the account from the listed groups (AD: static groups; Entra: members/{id}/$ref; Okta: OKTA_GROUP only)";

    public override ImmutableArray<Provider> Providers => [Provider.Ad, Provider.Entra, Provider.Okta];

    public override ImmutableArray<ParameterSpec> Parameters { get; } =
    [
        new("groups", ParameterType.StringList, true, "names of the groups to remove the account from; groups it is not a direct member of are skipped"),
    ];

    public override bool Destructive => true;

    public override Reversal Reversal => Reversal.By("add the account back to the groups recorded in the prior state");

    public override ImmutableDictionary<Provider, ImmutableArray<string>> Permissions { get; } = Needs(
        ad: ["Write property member on each listed group"],
        entra: EntraPermissions.With("GroupMember.ReadWrite.All", "RoleManagement.ReadWrite.Directory (role-assignable groups)"),
        okta: ["okta.groups.manage", "okta.groups.read", "okta.users.read", "okta.roles.read (identity lookup)"]);

    public override ImmutableArray<string> Preconditions =>
    [
        "only groups the account is a direct member of; otherwise a no-op",
        "never the AD primary group (primaryGroupID)",
        "never Entra dynamic-membership groups or groups synced from on-premises",
        "Okta: only OKTA_GROUP groups (not APP_GROUP or BUILT_IN)",
        "lockout protection: never strips the last enabled members of a critical group",
    ];

    public override PreconditionResult CheckPreconditions(Identity identity, ActionParameters parameters, PrivilegedPolicy policy)
    {
        var removable = ImmutableArray.CreateBuilder<string>();
        var refused = new List<string>();
        var absent = new List<string>();
        foreach (var name in parameters.Strings("groups"))
        {
            var group = identity.DirectGroup(name);
            if (group is null)
            {
                absent.Add(name);
            }
            else if (string.Equals(group.Name, identity.PrimaryGroup, StringComparison.OrdinalIgnoreCase))
            {
                refused.Add($"'{group.Name}' is the account's primary group (AD refuses to remove it; set another primaryGroupID first)");
            }
            else if (group.Dynamic)
            {
                refused.Add($"'{group.Name}' has dynamic membership");
            }
            else if (group.Synced)
            {
                refused.Add($"'{group.Name}' is synced from on-premises AD (change it there)");
            }
            else if (identity.Provider == Provider.Okta && group.OktaType is not null && group.OktaType != "OKTA_GROUP")
            {
                refused.Add($"'{group.Name}' is an Okta {group.OktaType}, not an OKTA_GROUP");
            }
            else
            {
                removable.Add(group.Name);
            }
        }

        var narrowed = parameters.With("groups", removable.ToImmutable());
        var notes = new List<string>();
        if (refused.Count > 0) notes.Add("refused: " + string.Join("; ", refused));
        if (absent.Count > 0) notes.Add("not a direct member of " + string.Join(", ", absent));
        var note = notes.Count > 0 ? string.Join("; ", notes) : null;
        return removable.Count > 0
            ? PreconditionResult.Allow(narrowed, note)
            : PreconditionResult.Refuse(narrowed, note ?? "no groups listed");
    }

    /// <summary>The user's direct Member edge to each named group: every path through that group is cut.</summary>
    public override ImmutableArray<GraphEdit> Effect(string targetId, ActionParameters parameters) =>
        [.. parameters.Strings("groups").Select(group => new GraphEdit.RemoveEdge(targetId, group, EdgeKind.Member))];

    public override Identity Expected(Identity identity, ActionParameters parameters)
    {
        var removed = parameters.Strings("groups").Where(g => !string.Equals(g, identity.PrimaryGroup, StringComparison.OrdinalIgnoreCase))
            .ToHashSet(StringComparer.OrdinalIgnoreCase);
        var left = identity.Groups.Where(g => !removed.Contains(g.Name)).ToImmutableArray();

        // Still held through another direct group's nesting (one level known here): kept; the lockout count reads the whole graph.
        var transitive = identity.TransitiveGroups.Where(g => !removed.Contains(g) || left.Any(l => l.MemberOf.Contains(g, StringComparer.OrdinalIgnoreCase)));
        return identity with { Groups = left, TransitiveGroups = transitive.ToFrozenSet(StringComparer.OrdinalIgnoreCase) };
    }
}
