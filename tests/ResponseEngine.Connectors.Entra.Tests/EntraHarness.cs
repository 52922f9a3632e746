using ResponseEngine.Execution;
using ResponseEngine.Findings;
using ResponseEngine.Identities;
using ResponseEngine.TestKit;
using ResponseEngine.TestKit.Connectors;
using ResponseEngine.TestKit.Graph;

namespace ResponseEngine.Connectors.Entra.Tests;

/// <summary>
/// The Entra connector (real Graph SDK) over a Graph emulator on a loopback port, on a fake clock. <see cref="Connector"/>
/// runs every call on the clock (advancing it whenever the connector waits: Retry-After, pacing), so contract tests need
/// not know about time.
/// </summary>
public sealed class EntraHarness : ConnectorHarness
{
    public static readonly DateTimeOffset Start = new(2026, 11, 26, 8, 0, 0, TimeSpan.Zero);

    public const string TenantId = "11111111-2222-3333-4444-555555555555";

    private EntraHarness(GraphEmulator emulator, DrivenClock clock, EntraConnector connector, EntraOptions options, TempDirectory directory)
    {
        Emulator = emulator;
        Clock = clock;
        EntraConnector = connector;
        Options = options;
        Directory = directory;
        Connector = new ClockDriven(connector, clock);
    }

    public GraphEmulator Emulator { get; }

    public DrivenClock Clock { get; }

    public EntraConnector EntraConnector { get; }

    public EntraOptions Options { get; }

    public TempDirectory Directory { get; }

    public override IConnector Connector { get; }

    public static async Task<EntraHarness> StartAsync(ContractDirectory? seed = null, Func<EntraOptions, EntraOptions>? configure = null,
        CancellationToken cancellationToken = default)
    {
        var clock = new DrivenClock(Start);
        var emulator = await GraphEmulator.StartAsync(clock, cancellationToken);
        if (seed is not null) emulator.Load(seed);
        var options = new EntraOptions
        {
            TenantId = TenantId,
            ClientId = "66666666-7777-8888-9999-000000000000",
            BaseUrl = emulator.BaseUrl,
            Auth = EntraAuthMode.ClientSecret,
            ClientSecret = "unused: the credential double answers",
            RequestTimeout = null,
        };
        options = configure?.Invoke(options) ?? options;
        var directory = new TempDirectory();
        var connector = EntraConnector.Create(options, PrivilegedPolicy.Default, clock, new StaticTokenCredential(), workingDirectory: directory.Path);
        return new EntraHarness(emulator, clock, connector, options, directory);
    }

    /// <summary>Runs work on the fake clock with a generous limit of fake time.</summary>
    public Task<T> RunAsync<T>(Func<Task<T>> work) => Clock.RunAsync(work, TimeSpan.FromHours(6));

    public Task RunAsync(Func<Task> work) => Clock.RunAsync(work, TimeSpan.FromHours(6));

    public Task<IdentityLookup> ResolveAsync(string name) =>
        Connector.ResolveAsync(new Subject(Provider.Entra, null, name), TestContext.Current.CancellationToken);

    public override Task<Identity?> InspectAsync(string userId, CancellationToken cancellationToken) => Task.FromResult(Emulator.Inspect(userId));

    public override async ValueTask DisposeAsync()
    {
        EntraConnector.Dispose();
        await Emulator.DisposeAsync();
        Directory.Dispose();
        await base.DisposeAsync();
    }

    /// <summary>The connector with each call driven on the fake clock.</summary>
    private sealed class ClockDriven(EntraConnector inner, DrivenClock clock) : IConnector, IDirectoryExport
    {
        private static readonly TimeSpan Limit = TimeSpan.FromHours(6);

        public Provider Provider => inner.Provider;

        public Task<IdentityLookup> ResolveAsync(Subject subject, CancellationToken cancellationToken) =>
            clock.RunAsync(() => inner.ResolveAsync(subject, cancellationToken), Limit);

        public Task<TargetState> ReadAsync(ActionRequest request, CancellationToken cancellationToken) =>
            clock.RunAsync(() => inner.ReadAsync(request, cancellationToken), Limit);

        public Task ApplyAsync(ActionRequest request, CancellationToken cancellationToken) =>
            clock.RunAsync(() => inner.ApplyAsync(request, cancellationToken), Limit);

        public Task<bool> VerifyAsync(ActionRequest request, CancellationToken cancellationToken) =>
            clock.RunAsync(() => inner.VerifyAsync(request, cancellationToken), Limit);

        public Task RestoreAsync(ActionRequest request, string priorState, CancellationToken cancellationToken) =>
            clock.RunAsync(() => inner.RestoreAsync(request, priorState, cancellationToken), Limit);

        public Task<CriticalSet> CountCriticalAsync(string groupOrRole, CancellationToken cancellationToken) =>
            clock.RunAsync(() => inner.CountCriticalAsync(groupOrRole, cancellationToken), Limit);

        public Task<DirectoryExport> ExportAsync(CancellationToken cancellationToken) =>
            clock.RunAsync(() => inner.ExportAsync(cancellationToken), Limit);
    }
}
