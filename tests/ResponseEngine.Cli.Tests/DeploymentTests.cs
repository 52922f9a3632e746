using System.Diagnostics;
using System.Reflection;
using System.Text;
using System.Text.Json;
using System.Text.RegularExpressions;
using FluentAssertions;
using ResponseEngine.TestKit;
using Xunit;

namespace ResponseEngine.Cli.Tests;

/// <summary>
/// What users install: the container image (docker/Dockerfile, checked without a docker engine against the published
/// app), and the .NET tool package. Both are built from the tests' own configuration with --no-build.
/// </summary>
public sealed class DeploymentTests : IClassFixture<DeploymentTests.Published>
{
    private readonly Published _published;

    public DeploymentTests(Published published) => _published = published;

    /// <summary>The shared frameworks each official .NET image provides (mcr.microsoft.com/dotnet/…).</summary>
    private static readonly Dictionary<string, string[]> ImageFrameworks = new(StringComparer.Ordinal)
    {
        ["mcr.microsoft.com/dotnet/runtime-deps"] = [],
        ["mcr.microsoft.com/dotnet/runtime"] = ["Microsoft.NETCore.App"],
        ["mcr.microsoft.com/dotnet/aspnet"] = ["Microsoft.NETCore.App", "Microsoft.AspNetCore.App"],
        ["mcr.microsoft.com/dotnet/sdk"] = ["Microsoft.NETCore.App", "Microsoft.AspNetCore.App", "Microsoft.WindowsDesktop.App"],
    };

    /// <summary>Debian/Ubuntu packages and the OpenLDAP client library file each installs.</summary>
    private static readonly Dictionary<string, string> LdapPackages = new(StringComparer.Ordinal)
    {
        ["libldap2"] = "libldap.so.2",               // Ubuntu 24.04, Debian 13 (OpenLDAP 2.6)
        ["libldap-2.5-0"] = "libldap-2.5.so.0",      // Ubuntu 22.04, Debian 12
        ["libldap-2.4-2"] = "libldap-2.4.so.2",      // Debian 11
    };

    [Fact]
    public void Dockerfile_RuntimeStage_ProvidesEveryFrameworkThePublishedAppNeeds()
    {
        using var config = JsonDocument.Parse(File.ReadAllText(Path.Combine(_published.Folder, "respond.runtimeconfig.json")));
        var needed = config.RootElement.GetProperty("runtimeOptions").GetProperty("frameworks").EnumerateArray()
            .Select(f => f.GetProperty("name").GetString()!).ToList();
        needed.Should().Contain("Microsoft.AspNetCore.App", "respond serve is an ASP.NET Core host");

        var image = Dockerfile.RuntimeImage;
        ImageFrameworks.Should().ContainKey(image, $"the runtime stage's base image {image} should be an official .NET image this test knows");
        ImageFrameworks[image].Should().Contain(needed, $"{image} must provide every framework respond.runtimeconfig.json names, or `respond` cannot start (\"No frameworks were found\")");
    }

    [Fact]
    public void Dockerfile_RuntimeStage_InstallsTheNativeLibrariesTheConnectorsLoad()
    {
        // System.DirectoryServices.Protocols (the AD connector) loads OpenLDAP's client library by one of these names on Linux.
        var protocols = Path.Combine(_published.Folder, "runtimes", "linux", "lib", "net10.0", "System.DirectoryServices.Protocols.dll");
        File.Exists(protocols).Should().BeTrue("the published app carries the Linux build of System.DirectoryServices.Protocols");
        var bytes = File.ReadAllBytes(protocols);
        var probed = Regex.Matches(Encoding.Latin1.GetString(bytes) + Encoding.Unicode.GetString(bytes) + Encoding.Unicode.GetString(bytes, 1, bytes.Length - 1), @"libldap[-.0-9a-z]*\.so[.0-9]*")
            .Select(m => m.Value).ToHashSet(StringComparer.Ordinal);
        probed.Should().NotBeEmpty();

        var installed = Dockerfile.RuntimeAptPackages;
        installed.Where(LdapPackages.ContainsKey).Select(p => LdapPackages[p]).Should().IntersectWith(probed,
            $"the runtime stage must apt-get install a package with one of {string.Join(", ", probed.Order())} (it installs {string.Join(", ", installed)})");

        // SQLite (the embedded audit store) is bundled with the app, so no package is needed for it.
        File.Exists(Path.Combine(_published.Folder, "runtimes", "linux-x64", "native", "libe_sqlite3.so")).Should().BeTrue();
    }

    [Fact]
    public void Dockerfile_RuntimeStage_RunsServeAsNonRootWithHealthCheckOnTheExposedPort()
    {
        var stage = Dockerfile.RuntimeStage;
        stage.Should().Contain(l => Regex.IsMatch(l, @"^USER\s+(app|\$APP_UID|1654)\b"), "the image runs as the non-root app user");
        stage.Should().Contain(l => l.StartsWith("EXPOSE 8080", StringComparison.Ordinal));
        stage.Should().Contain(l => l.Contains("RESPOND__SERVE__LISTEN=http://0.0.0.0:8080", StringComparison.Ordinal), "serve listens on all interfaces in the container, on the exposed port");
        stage.Should().Contain(l => l.StartsWith("HEALTHCHECK", StringComparison.Ordinal) && l.Contains("http://127.0.0.1:8080/healthz", StringComparison.Ordinal));
        Dockerfile.RuntimeAptPackages.Should().Contain("curl", "the health check runs curl");
        stage.Should().Contain("CMD [\"serve\"]");
    }

    [Fact]
    public async Task ToolPackage_InstalledGlobally_RespondPrintsItsVersion()
    {
        var home = Directory.CreateTempSubdirectory("respond-tool-home-").FullName;
        try
        {
            // DOTNET_CLI_HOME keeps the global install inside the test's folder.
            var install = await Dotnet.RunAsync(RepoPaths.Root, new() { ["DOTNET_CLI_HOME"] = home },
                "dotnet", "tool", "install", "--global", "--add-source", _published.ToolFolder, "respond");
            install.ExitCode.Should().Be(0, install.Output);

            var respond = Path.Combine(home, ".dotnet", "tools", "respond");
            var version = await Dotnet.RunAsync(RepoPaths.Root, new() { ["DOTNET_CLI_HOME"] = home }, respond, "--version");
            version.ExitCode.Should().Be(0, version.Output);
            var expected = typeof(DeploymentTests).Assembly.GetCustomAttribute<AssemblyFileVersionAttribute>()!.Version;
            version.Output.Trim().Should().StartWith(string.Join('.', expected.Split('.').Take(3)));
        }
        finally
        {
            Directory.Delete(home, recursive: true);
        }
    }

    /// <summary>`dotnet publish` and `dotnet pack` of the CLI, once, from the build the tests run on.</summary>
    public sealed class Published : IAsyncLifetime
    {
        private readonly string _root = Directory.CreateTempSubdirectory("respond-published-").FullName;

        public string Folder => Path.Combine(_root, "app");

        public string ToolFolder => Path.Combine(_root, "tool");

        public async ValueTask InitializeAsync()
        {
            var configuration = typeof(DeploymentTests).Assembly.GetCustomAttribute<AssemblyConfigurationAttribute>()?.Configuration ?? "Release";
            const string project = "engine/ResponseEngine.Cli/ResponseEngine.Cli.csproj";
            var publish = await Dotnet.RunAsync(RepoPaths.Root, [], "dotnet", "publish", project, "-c", configuration, "--no-build", "-o", Folder, "--nologo");
            publish.ExitCode.Should().Be(0, publish.Output);
            var pack = await Dotnet.RunAsync(RepoPaths.Root, [], "dotnet", "pack", project, "-c", configuration, "--no-build", "-o", ToolFolder, "--nologo");
            pack.ExitCode.Should().Be(0, pack.Output);
        }

        public ValueTask DisposeAsync()
        {
            Directory.Delete(_root, recursive: true);
            return ValueTask.CompletedTask;
        }
    }

    /// <summary>docker/Dockerfile, read as text: its last stage is the image users run.</summary>
    private static class Dockerfile
    {
        private static readonly Lazy<string[]> Lines = new(() =>
        {
            // Join continuation lines so that one instruction is one line.
            var text = File.ReadAllText(Path.Combine(RepoPaths.Root, "docker", "Dockerfile")).Replace("\\\n", " ", StringComparison.Ordinal);
            return [.. text.Split('\n').Select(l => Regex.Replace(l.Trim(), @"\s+", " ")).Where(l => l.Length > 0 && !l.StartsWith('#'))];
        });

        public static string[] RuntimeStage => [.. Lines.Value.Skip(Array.FindLastIndex(Lines.Value, l => l.StartsWith("FROM ", StringComparison.Ordinal)))];

        /// <summary>The runtime stage's base image without its tag.</summary>
        public static string RuntimeImage => RuntimeStage[0].Split(' ')[1].Split(':')[0];

        public static string[] RuntimeAptPackages =>
        [
            .. RuntimeStage.Where(l => l.StartsWith("RUN ", StringComparison.Ordinal))
                .SelectMany(l => Regex.Matches(l, @"apt-get install ([^&|;]*)").Select(m => m.Groups[1].Value))
                .SelectMany(args => args.Split(' ', StringSplitOptions.RemoveEmptyEntries)).Where(a => !a.StartsWith('-')),
        ];
    }

    private static class Dotnet
    {
        public static async Task<(int ExitCode, string Output)> RunAsync(string directory, Dictionary<string, string> environment, string program, params string[] args)
        {
            var info = new ProcessStartInfo(program) { WorkingDirectory = directory, RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
            foreach (var arg in args) info.ArgumentList.Add(arg);
            info.Environment["DOTNET_CLI_TELEMETRY_OPTOUT"] = "1";
            info.Environment["DOTNET_NOLOGO"] = "1";
            foreach (var (key, value) in environment) info.Environment[key] = value;
            using var process = Process.Start(info)!;
            var output = process.StandardOutput.ReadToEndAsync();
            var error = process.StandardError.ReadToEndAsync();
            await process.WaitForExitAsync();
            return (process.ExitCode, await output + await error);
        }
    }
}
