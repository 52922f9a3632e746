using Microsoft.Data.Sqlite;
using Microsoft.Extensions.Time.Testing;
using ResponseEngine.Audit.Sqlite;
using ResponseEngine.Inbox;
using ResponseEngine.TestKit;

namespace ResponseEngine.Cli.Tests;

/// <summary>`respond inbox list --rejected` and `respond inbox resubmit` on a SQLite store holding quarantined records.</summary>
public sealed class InboxCommandTests : IDisposable
{
    private readonly TempDirectory _temp = new();
    private readonly FakeTimeProvider _time = new(Build.Now);

    public void Dispose()
    {
        SqliteConnection.ClearAllPools();
        _temp.Dispose();
    }

    private (int Exit, string Out, string Err) Run(params string[] args)
    {
        var output = new StringWriter();
        var error = new StringWriter();
        var exit = CliApp.Run(args, output, error, _time);
        return (exit, output.ToString(), error.ToString());
    }

    private static string Finding(string id, string name) =>
        "{\"id\":\"" + id + "\",\"source\":\"itdr\",\"type\":\"account_takeover\",\"severity\":\"high\",\"observed_at\":\"2026-11-20T08:00:00Z\",\"subject\":{\"provider\":\"okta\",\"name\":\"" + name + "\"}}";

    [Fact]
    public async Task InboxResubmit_QuarantinedRecords_ListedFixedResubmittedOnce()
    {
        var db = Path.Combine(_temp.Path, "respond.db");
        var config = _temp.Write("respond.yaml", $"audit: {{ connection: {db} }}\n");
        await using (var store = new SqliteAuditStore(db, _time))
        {
            await store.InitializeAsync(CancellationToken.None);
            await store.RejectAsync(
            [
                new RejectedRecord("folder:drop", "a.ndjson:2:7", Finding("q-1", "\\ud800"), "a.ndjson:2:7: RE0104 field '/subject/name' is not valid Unicode text"),
                new RejectedRecord("okta_logs:okta", "e-9", """{"uuid":"e-9","eventType":"security.threat.detected","published":"2026-11-20T08:00:00Z","target":[{"id":"00u1","type":"User","alternateId":"ann@corp.example.com"}]}""", "an older mapping refused it\u001b[31m"),
            ], CancellationToken.None);
        }

        var list = Run("inbox", "list", "--rejected", "--config", config);
        list.Exit.Should().Be(0, list.Err);
        list.Out.Should().Contain("folder:drop").And.Contain("a.ndjson:2:7").And.Contain("RE0104").And.Contain("2 quarantined records");
        list.Out.Should().NotContain("\u001b", "control characters from data are escaped").And.Contain("\\e[31m");

        var still = Run("inbox", "resubmit", "1", "--config", config);
        still.Exit.Should().Be(2);
        still.Err.Should().Contain("still not a finding").And.Contain("RE0104");

        var fixedFile = _temp.Write("fixed.json", Finding("q-1", "ann@corp.example.com"));
        var fixedRun = Run("inbox", "resubmit", "1", "--file", fixedFile, "--config", config);
        fixedRun.Exit.Should().Be(0, fixedRun.Err);
        fixedRun.Out.Should().Contain("resubmitted record 1 as finding itdr/q-1");
        Run("inbox", "resubmit", "1", "--file", fixedFile, "--config", config).Exit.Should().Be(2, "a record is resubmitted once");

        var remapped = Run("inbox", "resubmit", "2", "--config", config);
        remapped.Exit.Should().Be(0, remapped.Err);
        remapped.Out.Should().Contain("as finding okta/e-9");

        Run("inbox", "list", "--rejected", "--config", config).Out.Should().Contain("0 quarantined records");
        await using var check = new SqliteAuditStore(db, _time);
        (await check.ReceivedSinceAsync(DateTimeOffset.MinValue, CancellationToken.None)).Select(i => (i.FindingId, i.Origin))
            .Should().Equal(("q-1", "resubmitted:folder:drop"), ("e-9", "resubmitted:okta_logs:okta"));
    }
}
