using System.Text.Json;
using Microsoft.Data.Sqlite;
using Microsoft.Extensions.Time.Testing;
using ResponseEngine.Audit.Sqlite;
using ResponseEngine.Cli;
using ResponseEngine.Inbox;
using ResponseEngine.TestKit;

namespace ResponseEngine.Service.Tests;

/// <summary>`respond plan --findings audit:30d`: the findings `respond serve` received in the window, read from the inbox.</summary>
public sealed class PlanFromInboxTests : IDisposable
{
    private readonly ServeWorkspace _workspace = new();

    public void Dispose()
    {
        SqliteConnection.ClearAllPools();
        _workspace.Dispose();
    }

    [Fact]
    public async Task Plan_AuditWindow_PlansTheFindingsReceivedInItOnly()
    {
        var ct = TestContext.Current.CancellationToken;
        var now = new DateTimeOffset(2026, 11, 26, 9, 0, 0, TimeSpan.Zero);
        var clock = new FakeTimeProvider(now.AddDays(-40));
        await using (var store = new SqliteAuditStore(_workspace.Database, clock))
        {
            await store.InitializeAsync(ct);
            IFindingInbox inbox = store;
            await inbox.AddAsync([new InboxEntry("itdr", "old", ServeWorkspace.Finding("old", ServeWorkspace.OktaUsers[0]), "webhook")], ct);
            clock.SetUtcNow(now.AddDays(-10));
            await inbox.AddAsync([new InboxEntry("itdr", "recent", ServeWorkspace.Finding("recent", ServeWorkspace.OktaUsers[1]), "webhook")], ct);
        }

        var config = _workspace.Write("plan.yaml", $"audit: {{ store: sqlite, connection: \"{_workspace.Database}\" }}\n");
        var output = new StringWriter();
        var error = new StringWriter();

        var exit = CliApp.Run(["plan", "--findings", "audit:30d", "--rules", Path.Combine(_workspace.Path, "rules"), "--directory", RepoPaths.SampleDirectory,
            "--format", "json", "--config", config, "--at", "2026-11-26T09:00:00Z"], output, error);

        exit.Should().Be(0, error.ToString());
        using var plan = JsonDocument.Parse(output.ToString());
        var decisions = plan.RootElement.GetProperty("decisions").EnumerateArray().ToList();
        decisions.Should().ContainSingle().Which.GetProperty("finding").GetProperty("id").GetString().Should().Be("recent");
        decisions[0].GetProperty("verdict").GetString().Should().Be("execute");

        var bad = CliApp.Run(["plan", "--findings", "audit:soon", "--rules", Path.Combine(_workspace.Path, "rules"), "--directory", RepoPaths.SampleDirectory, "--config", config], new StringWriter(), error);
        bad.Should().Be(2);
        error.ToString().Should().Contain("audit:soon").And.Contain("audit:30d");
    }

    [Fact]
    public void Plan_AuditWindowWithoutADatabase_SaysSoAndCreatesNone()
    {
        var missing = System.IO.Path.Combine(_workspace.Path, "never-served.db");
        var config = _workspace.Write("missing.yaml", $"audit: {{ store: sqlite, connection: \"{missing}\" }}\n");
        var error = new StringWriter();

        var exit = CliApp.Run(["plan", "--findings", "audit:30d", "--rules", System.IO.Path.Combine(_workspace.Path, "rules"), "--directory", RepoPaths.SampleDirectory,
            "--config", config], new StringWriter(), error);

        exit.Should().Be(2);
        error.ToString().Should().Contain("never-served.db does not exist");
        File.Exists(missing).Should().BeFalse("a plan only reads");
    }
}
