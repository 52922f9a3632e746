using System.Collections.Immutable;
using ResponseEngine.Findings;

namespace ResponseEngine.Actions.Catalogue;

/// <summary>Puts the account under a conditional-access policy that requires MFA at every sign-in.</summary>
public sealed class EnforceMfa : ActionDefinition
{
    public const string DefaultPolicyName = "ResponseEngine: require MFA";

    public override string Name => "enforce_mfa";

    public override string Summary => "Require MFA through a conditional-access policy the engine manages (created for the first user, later users added)";

    public override ImmutableArray<Provider> Providers => [Provider.Entra];

    public override ImmutableArray<ParameterSpec> Parameters { get; } =
    [
        new("policy_name", ParameterType.String, false, "display name of the managed conditional-access policy") { Default = DefaultPolicyName },
    ];

    public override bool Destructive => false;

    public override Reversal Reversal => Reversal.By("remove the account from the managed policy's users");

    public override ImmutableDictionary<Provider, ImmutableArray<string>> Permissions { get; } = Needs(
        entra: EntraPermissions.With("Policy.Read.All", "Policy.ReadWrite.ConditionalAccess"));

    public override ImmutableArray<string> Preconditions => ["already covered by the policy: no-op"];
}
