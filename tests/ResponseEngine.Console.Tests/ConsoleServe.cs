using Microsoft.Playwright;
using ResponseEngine.Service.Tests;
using ResponseEngine.TestKit;
using ResponseEngine.TestKit.Oidc;

namespace ResponseEngine.Console.Tests;

/// <summary>
/// One real `respond serve` process with the console on, signing people in through the OIDC emulator (authorization
/// code + PKCE, over loopback HTTP), on the local directory; and one headless Chromium (Debian's, through Playwright)
/// for a test class. Three people: Alice (approver), Vic (viewer) and Olga (operator), their roles mapped from groups.
/// </summary>
public abstract class ConsoleServe : IAsyncLifetime
{
    public const string ClientId = "respond-console";
    public const string ClientSecret = "console-client-secret-0123456789";

    public static readonly OidcUser Alice = new("u-alice", "Alice Approver", "alice@corp.example.com", Groups: ["sg-soc-analysts"]);
    public static readonly OidcUser Vic = new("u-vic", "Vic Viewer", "vic@corp.example.com", Groups: ["sg-soc-readers"]);
    public static readonly OidcUser Olga = new("u-olga", "Olga Operator", "olga@corp.example.com", Roles: ["Respond.Operator"]);

    /// <summary>The rule that holds for a person: an Okta account seen exfiltrating is deactivated only after approval.</summary>
    public const string ApprovalRule = ServeWorkspace.ApprovalRule;

    private IPlaywright? _playwright;

    public OidcEmulator Oidc { get; private set; } = null!;

    public ServeWorkspace Workspace { get; private set; } = null!;

    public ServeProcess Serve { get; private set; } = null!;

    /// <summary>Null when Chromium is missing (each test then skips or, under CI=true, fails).</summary>
    public IBrowser? Browser { get; private set; }

    /// <summary>Extra environment for serve (RESPOND__… overrides of respond.yaml).</summary>
    protected virtual IReadOnlyDictionary<string, string> Environment => new Dictionary<string, string>();

    /// <summary>Extra lines of respond.yaml's console section (indented two spaces).</summary>
    protected virtual string ConsoleExtra => "";

    /// <summary>The redirect URIs registered with the OIDC provider for the console.</summary>
    protected virtual Uri[] RedirectUris => [new Uri("http://127.0.0.1/console/signin-oidc")];

    public Uri Page(string path) => new(Serve.Url, path);

    /// <summary>What the workspace needs before serve starts (a folder respond.yaml names).</summary>
    protected virtual void Prepare(ServeWorkspace workspace)
    {
    }

    public async ValueTask InitializeAsync()
    {
        Oidc = await OidcEmulator.StartAsync(TimeProvider.System, https: false);
        Oidc.RegisterClient(ClientId, ClientSecret, RedirectUris, [new Uri("http://127.0.0.1/")]);
        foreach (var user in new[] { Alice, Vic, Olga }) Oidc.AddUser(user);
        Workspace = new ServeWorkspace($"""
            console:
              oidc:
                authority: {Oidc.Issuer}
                client_id: {ClientId}
                client_secret_env: T_CONSOLE_OIDC_SECRET
              roles:
                viewer: [sg-soc-readers]
                approver: [sg-soc-analysts]
                operator: [Respond.Operator]
            {ConsoleExtra}
            """);
        Workspace.Write("rules/okta/okta-approve-deactivate.yaml", ApprovalRule);
        Prepare(Workspace);
        Serve = await ServeProcess.StartAsync(Workspace.Path, ServeEnvironment);

        if (!File.Exists(Chromium.Path)) return;
        _playwright = await Playwright.CreateAsync();
        Browser = await _playwright.Chromium.LaunchAsync(new BrowserTypeLaunchOptions
        {
            ExecutablePath = Chromium.Path,
            Headless = true,
            Args = ["--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--no-first-run", "--disable-background-networking", "--disable-component-update", "--disable-sync"],
        });
    }

    private Dictionary<string, string> ServeEnvironment => new(Environment) { ["T_CONSOLE_OIDC_SECRET"] = ClientSecret };

    /// <summary>Stops serve (SIGTERM, as a service manager would) and starts it again on the same workspace, on a new port.</summary>
    public async Task RestartAsync()
    {
        await Serve.DisposeAsync();
        Serve = await ServeProcess.StartAsync(Workspace.Path, ServeEnvironment);
    }

    public async ValueTask DisposeAsync()
    {
        if (Browser is not null) await Browser.DisposeAsync();
        _playwright?.Dispose();
        if (Serve is not null) await Serve.DisposeAsync();
        Workspace?.Dispose();
        if (Oidc is not null) await Oidc.DisposeAsync();
        GC.SuppressFinalize(this);
    }
}

/// <summary>The console with the guards of <see cref="ServeWorkspace"/> (a breaker that does not open).</summary>
public sealed class ApprovalConsoleServe : ConsoleServe;

/// <summary>The console with a breaker that opens at the third destructive action in an hour.</summary>
public sealed class BreakerConsoleServe : ConsoleServe
{
    protected override IReadOnlyDictionary<string, string> Environment => new Dictionary<string, string> { ["RESPOND__GUARDS__BREAKER__THRESHOLD"] = "2" };
}

/// <summary>
/// The console for a test that restarts serve: each start gets a fresh, empty HOME (as a container's is), so nothing
/// but the configured key directory can carry the cookie keys across (ASP.NET's default keeps them under ~/.aspnet).
/// </summary>
public sealed class RestartConsoleServe : ConsoleServe
{
    protected override IReadOnlyDictionary<string, string> Environment =>
        new Dictionary<string, string> { ["HOME"] = Directory.CreateDirectory(Path.Combine(Workspace.Path, "home-" + Guid.NewGuid().ToString("N"))).FullName };
}

/// <summary>The console behind a reverse proxy: X-Forwarded-* believed from 127.0.0.2 only (the tests' own requests come from 127.0.0.1).</summary>
public sealed class ProxiedConsoleServe : ConsoleServe
{
    public const string ProxyAddress = "127.0.0.2";
    public const string PublicHost = "console.corp.example";

    protected override string ConsoleExtra => $"  forwarded_headers: [{ProxyAddress}]";

    protected override Uri[] RedirectUris => [new Uri("http://127.0.0.1/console/signin-oidc"), new Uri($"https://{PublicHost}/console/signin-oidc")];
}
