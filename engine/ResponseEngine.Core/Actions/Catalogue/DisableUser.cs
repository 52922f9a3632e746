using System.Collections.Immutable;
using ResponseEngine.Findings;
using ResponseEngine.Identities;
using ResponseEngine.Identities.Privilege;

namespace ResponseEngine.Actions.Catalogue;

/// <summary>Stops the account signing in: AD ACCOUNTDISABLE, Entra accountEnabled=false, Okta suspend.</summary>
public sealed class DisableUser : ActionDefinition
{
    public override string Name => "disable_user";

    public override string Summary => "Disable the account (AD: set ACCOUNTDISABLE; Entra: accountEnabled=false; Okta: suspend)";

    public override ImmutableArray<Provider> Providers => [Provider.Ad, Provider.Entra, Provider.Okta];

    public override bool Destructive => true;

    public override Reversal Reversal => Reversal.By("enable_user");

    public override ImmutableDictionary<Provider, ImmutableArray<string>> Permissions { get; } = Needs(
        ad: ["Write property userAccountControl on the user object"],
        entra: EntraPermissions.With("User.EnableDisableAccount.All", "User.Read.All"),
        okta: ["okta.users.manage", "okta.users.read", "okta.groups.read and okta.roles.read (identity lookup)"]);

    public override ImmutableArray<string> Preconditions =>
    [
        "already disabled or suspended: no-op",
        "Okta: only ACTIVE users are suspended (Okta refuses any other status); SUSPENDED or DEPROVISIONED is a no-op",
        "lockout protection: never the last enabled admins",
    ];

    public override PreconditionResult CheckPreconditions(Identity identity, ActionParameters parameters, PrivilegedPolicy policy)
    {
        if (identity.Provider != Provider.Okta) return PreconditionResult.Allow(parameters);
        var status = identity.OktaStatus ?? (identity.Enabled ? OktaStatuses.Active : OktaStatuses.Suspended);
        return status is OktaStatuses.Active or OktaStatuses.Suspended or OktaStatuses.Deprovisioned
            ? PreconditionResult.Allow(parameters)
            : PreconditionResult.Refuse(parameters, $"the Okta user is {status}; Okta suspends ACTIVE users only (deactivate_user applies to any status)");
    }

    public override ImmutableArray<GraphEdit> Effect(string targetId, ActionParameters parameters) => [new GraphEdit.Disable(targetId)];

    public override Identity Expected(Identity identity, ActionParameters parameters) => identity with
    {
        Enabled = false,
        OktaStatus = identity.Provider == Provider.Okta && identity.OktaStatus != OktaStatuses.Deprovisioned ? OktaStatuses.Suspended : identity.OktaStatus,
    };
}
