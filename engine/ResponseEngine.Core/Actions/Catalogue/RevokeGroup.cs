using System.Collections.Immutable;
using ResponseEngine.Findings;
using ResponseEngine.Identities;

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
}
