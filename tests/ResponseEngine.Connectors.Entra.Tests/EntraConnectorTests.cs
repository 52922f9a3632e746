using ResponseEngine.Findings;
using ResponseEngine.Identities;
using ResponseEngine.TestKit.Connectors;

namespace ResponseEngine.Connectors.Entra.Tests;

/// <summary>The shared connector contract, with the real Graph SDK against the Graph emulator.</summary>
public sealed class EntraConnectorTests : ConnectorContract
{
    protected override Provider Provider => Provider.Entra;

    protected override async Task<ConnectorHarness> StartAsync(ContractDirectory directory, CancellationToken cancellationToken) =>
        await EntraHarness.StartAsync(directory, cancellationToken: cancellationToken);

    /// <summary>
    /// Graph cannot set a risk state back: undoing a confirmation dismisses the risk, so "dismissed" stands for the
    /// "none" it replaced (the seed has no risk). Everything else must come back exactly.
    /// </summary>
    protected override ObservedState Observe(Identity identity)
    {
        var observed = ObservedState.Of(identity);
        return observed.RiskState == RiskStates.Dismissed ? observed with { RiskState = RiskStates.None } : observed;
    }
}
