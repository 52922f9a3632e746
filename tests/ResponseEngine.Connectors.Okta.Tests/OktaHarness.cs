using ResponseEngine.Execution;
using ResponseEngine.Identities;
using ResponseEngine.TestKit;
using ResponseEngine.TestKit.Connectors;
using ResponseEngine.TestKit.Okta;

namespace ResponseEngine.Connectors.Okta.Tests;

/// <summary>The Okta connector over an in-process emulated org, on a fake clock the test drives.</summary>
public sealed class OktaHarness : ConnectorHarness
{
    public static readonly DateTimeOffset Start = new(2026, 11, 26, 8, 0, 0, TimeSpan.Zero);

    private readonly HttpClient _http;

    public OktaHarness(ContractDirectory? seed = null, Func<OktaEmulator, OktaOptions, OktaOptions>? configure = null)
    {
        Emulator = new OktaEmulator(Clock);
        if (seed is not null) Emulator.Load(seed);
        _http = Emulator.CreateClient();
        var options = new OktaOptions { BaseUrl = Emulator.BaseUrl, ApiToken = Emulator.ApiToken, RequestTimeout = null };
        Options = configure is null ? options : configure(Emulator, options);
        OktaConnector = OktaConnector.Create(Options, PrivilegedPolicy.Default, Clock, _http);
    }

    public DrivenClock Clock { get; } = new(Start);

    public OktaEmulator Emulator { get; }

    public OktaOptions Options { get; }

    public OktaConnector OktaConnector { get; }

    public override IConnector Connector => OktaConnector;

    public override Task<Identity?> InspectAsync(string userId, CancellationToken cancellationToken) => Task.FromResult(Emulator.Inspect(userId));

    public override async ValueTask DisposeAsync()
    {
        OktaConnector.Dispose();
        _http.Dispose();
        Emulator.Dispose();
        await base.DisposeAsync();
    }
}
