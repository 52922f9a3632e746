using System.Collections.Immutable;
using ResponseEngine.Findings;

namespace ResponseEngine.Actions.Catalogue;

/// <summary>Lets the account sign in again; the undo of disable_user.</summary>
public sealed class EnableUser : ActionDefinition
{
    public override string Name => "enable_user";

    public override string Summary => "Enable the account (AD: clear ACCOUNTDISABLE; Entra: accountEnabled=true; Okta: unsuspend)";

    public override ImmutableArray<Provider> Providers => [Provider.Ad, Provider.Entra, Provider.Okta];

    public override bool Destructive => false;

    public override Reversal Reversal => Reversal.By("disable_user");

    public override ImmutableDictionary<Provider, ImmutableArray<string>> Permissions { get; } = Needs(
        ad: ["Write property userAccountControl on the user object"],
        entra: EntraPermissions.With("User.EnableDisableAccount.All", "User.Read.All"),
        okta: ["okta.users.manage", "okta.users.read", "okta.groups.read and okta.roles.read (identity lookup)"]);

    public override ImmutableArray<string> Preconditions => ["already enabled or active: no-op"];
}
