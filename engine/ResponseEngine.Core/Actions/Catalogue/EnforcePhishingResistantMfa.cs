using System.Collections.Immutable;
using ResponseEngine.Findings;
using ResponseEngine.Identities;

namespace ResponseEngine.Actions.Catalogue;

/// <summary>Requires the built-in phishing-resistant authentication strength for global-admin-level accounts.</summary>
public sealed class EnforcePhishingResistantMfa : ActionDefinition
{
    public const string DefaultPolicyName = "ResponseEngine: require phishing-resistant MFA for admins";

    public const string AuthenticationStrengthId = "00000000-0000-0000-0000-000000000004";

    public override string Name => "enforce_phishing_resistant_mfa";

    public override string Summary => "Require phishing-resistant MFA (authentication strength 00000000-0000-0000-0000-000000000004) through a managed conditional-access policy";

    public override ImmutableArray<Provider> Providers => [Provider.Entra];

    public override ImmutableArray<ParameterSpec> Parameters { get; } =
    [
        new("policy_name", ParameterType.String, false, "display name of the managed conditional-access policy") { Default = DefaultPolicyName },
    ];

    public override bool Destructive => true;

    public override Reversal Reversal => Reversal.By("remove the account from the managed policy's users");

    public override ImmutableDictionary<Provider, ImmutableArray<string>> Permissions { get; } = Needs(
        entra: EntraPermissions.With("Policy.Read.All", "Policy.ReadWrite.ConditionalAccess"));

    public override ImmutableArray<string> Preconditions =>
        ["only accounts holding a global-admin-level role (Global, Privileged Role or Privileged Authentication Administrator)"];

    public override PreconditionResult CheckPreconditions(Identity identity, ActionParameters parameters, PrivilegedPolicy policy) =>
        identity.GlobalAdmin
            ? PreconditionResult.Allow(parameters)
            : PreconditionResult.Refuse(parameters, "holds no global-admin-level role; phishing-resistant MFA is enforced only for those");
}
