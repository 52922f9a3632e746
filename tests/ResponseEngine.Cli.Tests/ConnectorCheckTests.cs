using System.Net;
using System.Net.Sockets;
using FluentAssertions;
using ResponseEngine.TestKit;
using Xunit;

namespace ResponseEngine.Cli.Tests;

/// <summary>
/// A configured directory that does not answer stops `respond run` before anything is decided, in one line naming it,
/// and `respond doctor` shows it; `respond` as a child process, with Okta configured at a port nobody listens on.
/// </summary>
[Trait("Reads", RepoPaths.ReadsShippedRules)]
public sealed class ConnectorCheckTests : IDisposable
{
    private readonly TempDirectory _temp = new();

    public void Dispose() => _temp.Dispose();

    private static readonly Dictionary<string, string> OktaToken = new() { ["RESPOND_OKTA_API_TOKEN"] = "00test-token-not-a-secret" };

    private string Workspace(int oktaPort)
    {
        _temp.Write("respond.yaml", $"""
            rules: {RepoPaths.Rules}
            findings: [{Path.Combine(RepoPaths.SampleFindings, "okta-systemlog.ndjson")}]
            audit: {"{"} connection: {Path.Combine(_temp.Path, "respond.db")} {"}"}
            local: {"{"} snapshot: {RepoPaths.SampleDirectory}, working_copy: {Path.Combine(_temp.Path, "state", "directory.json")} {"}"}
            execution: {"{"} connect_timeout: 3s {"}"}
            connectors:
              okta: {"{"} kind: okta, base_url: "http://127.0.0.1:{oktaPort}", auth: api_token {"}"}
            """);
        return _temp.Path;
    }

    /// <summary>A loopback port that was free a moment ago and has no listener now.</summary>
    private static int ClosedPort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        var port = ((IPEndPoint)listener.LocalEndpoint).Port;
        listener.Stop();
        return port;
    }

    [Fact]
    public async Task Run_OktaNotAnswering_ExitsOneWithOneLineNamingTheConnectorAndDecidesNothing()
    {
        var port = ClosedPort();
        var result = await CliProcess.RunAsync(Workspace(port), OktaToken, "run", "--once");

        result.ExitCode.Should().Be(1, result.Error);
        var lines = result.Error.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        lines.Should().ContainSingle(l => l.Contains("connector okta", StringComparison.Ordinal)).Which.Should()
            .StartWith("respond: nothing done: connector okta").And.Contain($"127.0.0.1:{port}").And.Contain("respond doctor");
        result.Error.Should().NotContain("Unhandled exception").And.NotContain("   at ");
        result.Output.Should().NotContain("decisions", "nothing is decided while a configured directory does not answer");
    }

    [Fact]
    public async Task Doctor_OktaNotAnswering_PrintsTheTableAndExitsOne()
    {
        var port = ClosedPort();
        var result = await CliProcess.RunAsync(Workspace(port), OktaToken, "doctor");

        result.ExitCode.Should().Be(1, result.Error);
        result.Output.Should().Contain("provider").And.Contain("reachable");
        var okta = result.Output.Split('\n').Single(l => l.StartsWith("okta", StringComparison.Ordinal));
        okta.Should().Contain(" NO ").And.Contain($"127.0.0.1:{port}");
        result.Output.Should().Contain("problem:");
        result.Output.Split('\n').Should().Contain(l => l.StartsWith("ad ", StringComparison.Ordinal) && l.Contains(" yes ", StringComparison.Ordinal),
            "a provider without a connector uses the local directory, which always answers");
        result.Output.Should().Contain("permissions the rules need:");
    }

    [Fact]
    public async Task Doctor_JsonFormat_ListsEveryProvider()
    {
        var result = await CliProcess.RunAsync(Workspace(ClosedPort()), OktaToken, "doctor", "--format", "json");

        result.ExitCode.Should().Be(1, result.Error);
        using var json = System.Text.Json.JsonDocument.Parse(result.Output);
        json.RootElement.EnumerateArray().Select(e => e.GetProperty("provider").GetString()).Should().BeEquivalentTo("ad", "entra", "okta");
        json.RootElement.EnumerateArray().Single(e => e.GetProperty("provider").GetString() == "okta").GetProperty("reachable").GetBoolean().Should().BeFalse();
    }
}
