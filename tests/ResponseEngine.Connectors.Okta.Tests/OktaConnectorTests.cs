using ResponseEngine.Findings;
using ResponseEngine.TestKit.Connectors;

namespace ResponseEngine.Connectors.Okta.Tests;

/// <summary>The shared connector contract against the Okta emulator; group nesting is modelled by group rules.</summary>
public sealed class OktaConnectorTests : ConnectorContract
{
    protected override Provider Provider => Provider.Okta;

    protected override Task<ConnectorHarness> StartAsync(ContractDirectory directory, CancellationToken cancellationToken) =>
        Task.FromResult<ConnectorHarness>(new OktaHarness(directory));
}
