using System.Collections.Immutable;
using ResponseEngine.Findings;

namespace ResponseEngine.Actions.Catalogue;

/// <summary>Confirms the account compromised in Identity Protection, so risk-based policies block it.</summary>
public sealed class MarkCompromised : ActionDefinition
{
    public override string Name => "mark_compromised";

    public override string Summary => "Confirm the user compromised in Entra ID Protection (riskyUsers confirmCompromised; needs Entra ID P2)";

    public override ImmutableArray<Provider> Providers => [Provider.Entra];

    public override bool Destructive => true;

    public override Reversal Reversal => Reversal.By("dismiss the user's risk (riskyUsers dismiss)");

    public override ImmutableDictionary<Provider, ImmutableArray<string>> Permissions { get; } = Needs(
        entra: EntraPermissions.With("IdentityRiskyUser.ReadWrite.All"));

    public override ImmutableArray<string> Preconditions => ["already confirmed compromised: no-op"];
}
