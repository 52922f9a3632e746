using System.Collections.Immutable;
using ResponseEngine.Findings;
using ResponseEngine.Identities;
using ResponseEngine.Identities.Privilege;

namespace ResponseEngine.Actions.Catalogue;

/// <summary>Forces a new password at next sign-in, so a leaked or weak one stops working.</summary>
public sealed class ResetPassword : ActionDefinition
{
    public override string Name => "reset_password";

    public override string Summary => "Force a password change at next sign-in (AD: pwdLastSet=0; Entra: forceChangePasswordNextSignIn; Okta: expire_password)";

    public override ImmutableArray<Provider> Providers => [Provider.Ad, Provider.Entra, Provider.Okta];

    public override ImmutableArray<ParameterSpec> Parameters { get; } =
    [
        new("set_random", ParameterType.Boolean, false,
            "also set a random strong password over LDAPS (never logged or audited in clear), so the old one stops working at once")
        {
            OnlyFor = [Provider.Ad],
            Default = false,
        },
    ];

    public override bool Destructive => true;

    public override Reversal Reversal => Reversal.Irreversible("a password change cannot be taken back; the user sets a new password");

    public override ImmutableDictionary<Provider, ImmutableArray<string>> Permissions { get; } = Needs(
        ad: ["Write property pwdLastSet", "Reset Password extended right (only with set_random)"],
        entra: EntraPermissions.With("User-PasswordProfile.ReadWrite.All", "a privileged role for the app when the target is an admin (e.g. Privileged Authentication Administrator)"),
        okta: ["okta.users.manage", "okta.users.read", "okta.groups.read and okta.roles.read (identity lookup)"]);

    public override ImmutableArray<string> Preconditions =>
    [
        "Okta: only ACTIVE users (Okta expires no other user's password; PASSWORD_EXPIRED is a no-op), also when an earlier action of the run suspended or deactivated the user",
        "lockout protection: never the last enabled admins",
    ];

    public override PreconditionResult CheckPreconditions(Identity identity, ActionParameters parameters, PrivilegedPolicy policy)
    {
        if (identity.Provider != Provider.Okta) return PreconditionResult.Allow(parameters);
        var status = identity.OktaStatus ?? (identity.Enabled ? OktaStatuses.Active : OktaStatuses.Suspended);
        return status is OktaStatuses.Active or OktaStatuses.PasswordExpired
            ? PreconditionResult.Allow(parameters)
            : PreconditionResult.Refuse(parameters, $"the Okta user is {status}; Okta expires the password of ACTIVE users only");
    }

    /// <summary>The holder's current password stops working: until it sets a new one, it cannot use what it holds.</summary>
    public override ImmutableArray<GraphEdit> Effect(string targetId, ActionParameters parameters) => [new GraphEdit.Disable(targetId)];

    public override Identity Expected(Identity identity, ActionParameters parameters) => identity with
    {
        PasswordMustChange = true,
        OktaStatus = identity.Provider == Provider.Okta ? OktaStatuses.PasswordExpired : identity.OktaStatus,
    };
}
