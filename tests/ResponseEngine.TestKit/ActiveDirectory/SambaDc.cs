using System.Diagnostics;
using System.DirectoryServices.Protocols;
using System.Net;
using System.Text;
using Xunit;

namespace ResponseEngine.TestKit.ActiveDirectory;

/// <summary>
/// A throwaway Samba AD domain controller (realm TEST.LOCAL) on 127.0.0.1, LDAPS on 636 with its own CA, provisioned into
/// a temporary folder by tests/samba/start-samba-dc.sh the first time a test asks for it, and stopped by PID when the test
/// assembly ends. One per test run: use it as an assembly fixture. Where Samba cannot run, live tests skip saying how to
/// get it, except under CI=true, where they fail.
/// </summary>
public class SambaDc : IAsyncDisposable
{
    public const string Realm = "TEST.LOCAL";
    public const string BaseDn = "DC=test,DC=local";
    public const string AdminUpn = "Administrator@TEST.LOCAL";

    /// <summary>Only for this throwaway DC; it meets Samba's default complexity rule.</summary>
    public const string AdminPassword = "Adm1n!Throwaway-DC";

    public const string HowToGetIt =
        "Samba AD tests need root and the Debian packages samba samba-ad-provision samba-dsdb-modules samba-vfs-modules ldap-utils openssl: " +
        "run ./test.sh as root (it installs them), or apt-get install -y --no-install-recommends samba samba-ad-provision samba-dsdb-modules " +
        "samba-vfs-modules ldap-utils openssl. See docs/active-directory.md.";

    private readonly SemaphoreSlim _gate = new(1, 1);
    private bool _tried;
    private string? _problem;
    private string? _log;

    public SambaDc()
        : this("127.0.0.1")
    {
    }

    /// <summary>
    /// A DC on <paramref name="defaultHost"/> unless RESPOND_TEST_SAMBA_IP says otherwise: the DC's ports are fixed, so a
    /// second test assembly that needs a DC of its own gives it another loopback address, and both run side by side.
    /// </summary>
    protected SambaDc(string defaultHost) =>
        Host = Environment.GetEnvironmentVariable("RESPOND_TEST_SAMBA_IP") is { Length: > 0 } ip ? ip : defaultHost;

    private SambaDc(string host, bool exactly) => Host = exactly ? host : throw new ArgumentException("use the other constructor", nameof(exactly));

    /// <summary>
    /// A DC on exactly <paramref name="host"/>, whatever RESPOND_TEST_SAMBA_IP says: for a test that stops and restarts
    /// its DC, which must never be one another test assembly shares.
    /// </summary>
    public static SambaDc At(string host) => new(host, exactly: true);

    /// <summary>The loopback address the DC listens on; RESPOND_TEST_SAMBA_IP (e.g. 127.0.0.2) moves it.</summary>
    public string Host { get; }

    public int Port => 636;

    /// <summary>The folder the DC lives in while it runs; removed at the end.</summary>
    public string Folder { get; } = Path.Combine(Path.GetTempPath(), "respond-samba-" + Guid.NewGuid().ToString("N")[..10]);

    /// <summary>The DC's CA certificate (PEM); what a connector's ca_bundle points at.</summary>
    public string CaFile => Path.Combine(Folder, "tls", "ca.crt");

    /// <summary>A folder holding just the CA certificate, with its OpenSSL hash link.</summary>
    public string TrustDirectory => Path.Combine(Folder, "tls", "trust");

    public string SmbConf => Path.Combine(Folder, "etc", "smb.conf");

    /// <summary>
    /// An LDAPS connection to the DC, bound (as the domain administrator unless another account is given), trusting the DC's
    /// own CA the way .NET on Linux needs it: TrustedCertificatesDirectory, then a new TLS session context.
    /// </summary>
    public LdapConnection Connect(string? user = null, string? password = null, TimeSpan? timeout = null)
    {
        var connection = new LdapConnection(new LdapDirectoryIdentifier(Host, Port, false, false), new NetworkCredential(user ?? AdminUpn, password ?? AdminPassword), AuthType.Basic);
        try
        {
            connection.SessionOptions.ProtocolVersion = 3;
            connection.SessionOptions.SecureSocketLayer = true;
            connection.SessionOptions.ReferralChasing = ReferralChasingOptions.None;
            if (!OperatingSystem.IsWindows())
            {
                connection.SessionOptions.TrustedCertificatesDirectory = TrustDirectory;
                connection.SessionOptions.StartNewTlsSessionContext();
            }

            connection.Timeout = timeout ?? TimeSpan.FromSeconds(20);
            connection.Bind();
            return connection;
        }
        catch
        {
            connection.Dispose();
            throw;
        }
    }

    public static bool InCi => Environment.GetEnvironmentVariable("CI") is { } ci && (ci.Equals("true", StringComparison.OrdinalIgnoreCase) || ci == "1");

    public TimeSpan? StartedIn { get; private set; }

    /// <summary>
    /// Starts the DC if no test has yet; then skips the calling test when it cannot run (fails it under CI=true), saying why.
    /// </summary>
    public async Task RequireAsync(CancellationToken cancellationToken)
    {
        await _gate.WaitAsync(cancellationToken);
        try
        {
            if (!_tried)
            {
                _tried = true;
                _problem = await StartAsync(cancellationToken);
            }
        }
        finally
        {
            _gate.Release();
        }

        if (_problem is null) return;
        if (InCi) Assert.Fail($"CI=true and the Samba AD DC could not be started: {_problem}\n{_log}");
        Assert.Skip($"{_problem}. {HowToGetIt}");
    }

    /// <summary>Runs samba-tool against the DC's database (seeding what LDAP cannot, such as password settings).</summary>
    public async Task<string> SambaToolAsync(CancellationToken cancellationToken, params string[] arguments)
    {
        var (code, output) = await RunAsync("samba-tool", [.. arguments, "-s", SmbConf], null, TimeSpan.FromMinutes(1), cancellationToken);
        return code == 0 ? output : throw new InvalidOperationException($"samba-tool {string.Join(' ', arguments)} exited {code}: {output}");
    }

    /// <summary>
    /// SIGKILLs the DC's samba process (found by the PID its start recorded, checked to be samba and this DC's), the way a
    /// crashed or powered-off DC stops: no goodbye on open connections. Returns when LDAPS refuses connections, or throws
    /// after <paramref name="deadline"/>.
    /// </summary>
    public async Task KillAsync(TimeSpan deadline, CancellationToken cancellationToken)
    {
        var pid = int.Parse(File.ReadAllText(Path.Combine(Folder, "samba.pid")).Trim(), System.Globalization.CultureInfo.InvariantCulture);
        var own = File.ReadAllText(Path.Combine(Folder, "run", "samba.pid")).Trim();
        var exe = new FileInfo($"/proc/{pid}/exe").LinkTarget ?? "";
        if (!exe.EndsWith("/samba", StringComparison.Ordinal) || own != pid.ToString(System.Globalization.CultureInfo.InvariantCulture))
        {
            throw new InvalidOperationException($"pid {pid} is not the samba of {Folder} (exe '{exe}', its pid file says '{own}'); not killing it");
        }

        using (var process = Process.GetProcessById(pid)) process.Kill();
        using var limit = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        limit.CancelAfter(deadline);
        using var poll = new PeriodicTimer(TimeSpan.FromMilliseconds(20));
        while (await AcceptsAsync(limit.Token))
        {
            if (!await poll.WaitForNextTickAsync(limit.Token)) break;
        }
    }

    /// <summary>Starts samba again on the same database after <see cref="KillAsync"/> (tests/samba/restart-samba-dc.sh) and returns when LDAPS answers a bind.</summary>
    public async Task RestartAsync(CancellationToken cancellationToken)
    {
        var (code, output) = await RunAsync("bash", [Script("restart-samba-dc.sh"), Folder, AdminPassword],
            new Dictionary<string, string> { ["MAX_RUNTIME"] = "2400", ["READY_TIMEOUT"] = "90" }, TimeSpan.FromMinutes(3), cancellationToken);
        if (code != 0) throw new InvalidOperationException($"tests/samba/restart-samba-dc.sh exited {code}: {output}");
    }

    /// <summary>Whether something accepts TCP connections on the DC's LDAPS port.</summary>
    public async Task<bool> AcceptsAsync(CancellationToken cancellationToken)
    {
        using var client = new System.Net.Sockets.TcpClient();
        try
        {
            await client.ConnectAsync(System.Net.IPAddress.Parse(Host), Port, cancellationToken);
            return true;
        }
        catch (System.Net.Sockets.SocketException)
        {
            return false;
        }
    }

    public async ValueTask DisposeAsync()
    {
        GC.SuppressFinalize(this);
        if (_tried && Directory.Exists(Folder))
        {
            await RunAsync("bash", [Script("stop-samba-dc.sh"), Folder, "--purge"], null, TimeSpan.FromSeconds(30), CancellationToken.None);
        }

        _gate.Dispose();
    }

    private async Task<string?> StartAsync(CancellationToken cancellationToken)
    {
        if (!OperatingSystem.IsLinux()) return "the Samba AD fixture runs on Linux only";
        if (Environment.UserName != "root" && Environment.GetEnvironmentVariable("USER") != "root" && !IsRoot()) return "Samba must run as root and this test run is not root";
        if (!OnPath("samba-tool") || !OnPath("samba") || !OnPath("ldapsearch")) return "samba, samba-tool or ldapsearch is not installed";
        var environment = new Dictionary<string, string>
        {
            ["BIND_IP"] = Host,
            ["MAX_RUNTIME"] = "2400",            // samba exits by itself even if this process is killed
            ["READY_TIMEOUT"] = "90",
            ["PORT_WAIT"] = InCi ? "600" : "60", // another run's DC on the same fixed ports: wait for it to stop
        };
        var clock = Stopwatch.StartNew();
        var (code, output) = await RunAsync("bash", [Script("start-samba-dc.sh"), Folder, AdminPassword], environment, TimeSpan.FromMinutes(15), cancellationToken);
        _log = output;
        if (code != 0) return $"tests/samba/start-samba-dc.sh exited {code}";
        StartedIn = clock.Elapsed;
        return File.Exists(CaFile) ? null : $"tests/samba/start-samba-dc.sh left no CA certificate at {CaFile}";
    }

    private static string Script(string name) => Path.Combine(RepoPaths.Root, "tests", "samba", name);

    private static bool IsRoot() => File.Exists("/proc/self/status")
        && File.ReadLines("/proc/self/status").FirstOrDefault(l => l.StartsWith("Uid:", StringComparison.Ordinal)) is { } uid
        && uid.Split((char[])['\t', ' '], StringSplitOptions.RemoveEmptyEntries).ElementAtOrDefault(1) == "0";

    private static bool OnPath(string command) =>
        (Environment.GetEnvironmentVariable("PATH") ?? "/usr/sbin:/usr/bin:/sbin:/bin").Split(':')
            .Concat(["/usr/sbin", "/sbin"])
            .Any(folder => File.Exists(Path.Combine(folder, command)));

    private static async Task<(int Code, string Output)> RunAsync(
        string file, string[] arguments, Dictionary<string, string>? environment, TimeSpan timeout, CancellationToken cancellationToken)
    {
        var start = new ProcessStartInfo(file)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            RedirectStandardInput = true,
            UseShellExecute = false,
        };
        foreach (var argument in arguments) start.ArgumentList.Add(argument);
        if (environment is not null)
        {
            foreach (var (key, value) in environment) start.Environment[key] = value;
        }

        var path = start.Environment.TryGetValue("PATH", out var p) && p is not null ? p : "/usr/bin:/bin";
        if (!path.Contains("/usr/sbin", StringComparison.Ordinal)) start.Environment["PATH"] = path + ":/usr/sbin:/sbin";
        using var process = Process.Start(start) ?? throw new InvalidOperationException($"could not start {file}");
        process.StandardInput.Close();
        var output = new StringBuilder();
        var stdout = process.StandardOutput.ReadToEndAsync(cancellationToken);
        var stderr = process.StandardError.ReadToEndAsync(cancellationToken);
        using var limit = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        limit.CancelAfter(timeout);
        try
        {
            await process.WaitForExitAsync(limit.Token);
        }
        catch (OperationCanceledException)
        {
            process.Kill(entireProcessTree: true);
            return (-1, $"{file} did not finish within {timeout}");
        }

        output.Append(await stdout).Append(await stderr);
        return (process.ExitCode, output.ToString());
    }
}
