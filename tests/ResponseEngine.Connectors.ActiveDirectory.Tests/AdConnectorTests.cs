using ResponseEngine.Findings;
using ResponseEngine.TestKit.ActiveDirectory;
using ResponseEngine.TestKit.Connectors;

namespace ResponseEngine.Connectors.ActiveDirectory.Tests;

/// <summary>The shared connector contract, against a real (Samba) AD domain controller over LDAPS.</summary>
public sealed class AdConnectorTests(SambaDc dc) : ConnectorContract
{
    protected override Provider Provider => Provider.Ad;

    protected override async Task<ConnectorHarness> StartAsync(ContractDirectory directory, CancellationToken cancellationToken) =>
        await SambaHarness.StartAsync(dc, directory, cancellationToken);
}
