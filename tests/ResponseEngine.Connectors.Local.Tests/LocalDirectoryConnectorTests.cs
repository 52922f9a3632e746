using ResponseEngine.Findings;
using ResponseEngine.TestKit.Connectors;

namespace ResponseEngine.Connectors.Local.Tests;

/// <summary>The connector contract, run against the local directory once per provider.</summary>
public abstract class LocalDirectoryConnectorTests : ConnectorContract
{
    protected override Task<ConnectorHarness> StartAsync(ContractDirectory directory, CancellationToken cancellationToken) =>
        Task.FromResult<ConnectorHarness>(new LocalHarness(directory, Provider));
}

public sealed class LocalAdConnectorTests : LocalDirectoryConnectorTests
{
    protected override Provider Provider => Provider.Ad;
}

public sealed class LocalEntraConnectorTests : LocalDirectoryConnectorTests
{
    protected override Provider Provider => Provider.Entra;
}

public sealed class LocalOktaConnectorTests : LocalDirectoryConnectorTests
{
    protected override Provider Provider => Provider.Okta;
}
