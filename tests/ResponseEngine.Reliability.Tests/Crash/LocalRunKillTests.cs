using System.Globalization;
using System.Text.Json.Nodes;
using CsCheck;
using Microsoft.Data.Sqlite;
using ResponseEngine.Audit;
using ResponseEngine.Audit.Sqlite;
using ResponseEngine.Connectors.Local;
using ResponseEngine.Identities;
using ResponseEngine.TestKit;

namespace ResponseEngine.Reliability.Tests.Crash;

/// <summary>
/// The executor on the local directory with SQLite audit, as a child process (tests/ResponseEngine.CrashHost, mode
/// localrun), SIGKILLed one to three times at a generated step: a connector call, an audit append, or a step of the
/// journal — including the window the batched flush opens, after a change is written and before the flush that its
/// outcome row waits for. Then runs to the end: every account is disabled, each disable is recorded as succeeded
/// exactly once (by the run or by the reconciler that found it in place), no intent is left open, the chain holds.
/// </summary>
public sealed class LocalRunKillTests
{
    /// <summary>Steps (connector calls, appends, journal steps) a run takes per action, about: kill points fall within a run.</summary>
    private const int StepsPerAction = 14;

    [Fact]
    public async Task Sigkill_AtGeneratedSteps_EveryDisableRecordedOnceAndNothingLeftOpen()
    {
        var gen = Gen.Select(Gen.Int[2, 10], Gen.Int[1, 10 * StepsPerAction].Array[1, 3]);
        await gen.SampleAsync(async (users, kills) =>
        {
            using var dir = Reliability.ScratchDirectory();
            WriteInputs(dir, users);
            var audit = Path.Combine(dir.Path, "respond.db");
            var notes = new List<string>();
            (int Code, string Output, string Error)? final = null;
            foreach (var at in kills)
            {
                var run = await RunHostAsync(dir.Path, at);
                var killed = run.Output.Split('\n').FirstOrDefault(l => l.StartsWith("KILL ", StringComparison.Ordinal));
                notes.Add(killed is null ? $"(step {at} not reached)" : killed[5..].Trim());
                if (killed is null)
                {
                    final = run;
                    break;
                }

                run.Code.Should().NotBe(0, "SIGKILL ends the process at once");
            }

            final ??= await RunHostAsync(dir.Path, 0);
            var because = $"{users} users, kills at: {string.Join(" | ", notes)}";
            final.Value.Code.Should().Be(0, because + "\n" + final.Value.Output + final.Value.Error);

            var reader = LocalDirectory.Open(Path.Combine(dir.Path, "directory.json"), Path.Combine(dir.Path, "state", "directory.json"), TimeProvider.System);
            var snapshot = await reader.ReadSnapshotAsync(CancellationToken.None);
            snapshot.Users.Where(u => u.Id.StartsWith('u')).Should().HaveCount(users).And.OnlyContain(u => !u.Enabled, "every planned disable is in place; " + because);
            snapshot.Users.Where(u => u.Id.StartsWith("da", StringComparison.Ordinal)).Should().OnlyContain(u => u.Enabled);

            SqliteConnection.ClearAllPools();
            await using (var store = new SqliteAuditStore(audit, TimeProvider.System))
            {
                (await store.OpenIntentsAsync(CancellationToken.None)).Should().BeEmpty("no intent is left without an outcome; " + because);
                (await store.VerifyAsync(CancellationToken.None)).Intact.Should().BeTrue(because);
                var rows = await store.ReadAsync(new AuditQuery(), CancellationToken.None);
                var succeeded = rows.Where(r => r.Entry.Status == AuditStatus.Succeeded).GroupBy(r => r.Entry.IdentityId!).ToDictionary(g => g.Key, g => g.Count());
                var trail = string.Join("\n", rows.Select(r => $"  #{r.Sequence} {r.Entry.IdentityId} {r.Entry.Status.Name()} {r.Entry.Guard} {r.Entry.Reason} {r.Entry.Error}"));
                Enumerable.Range(0, users).Select(User).Should().OnlyContain(u => succeeded.GetValueOrDefault(u) == 1,
                    "each disable is recorded as succeeded exactly once; " + because + "\n" + trail);
            }

            SqliteConnection.ClearAllPools();
            Reliability.Record("local-run-kill", $"users={users} at: {string.Join(" | ", notes)} final={final.Value.Output.Trim().Split('\n')[^1]}");
        }, iter: 12, threads: 1);
    }

    private static string User(int i) => "u" + i.ToString(CultureInfo.InvariantCulture);

    /// <summary>Ordinary AD accounts to disable, and three domain admins the lockout guard counts for every action.</summary>
    private static void WriteInputs(TempDirectory dir, int users)
    {
        var accounts = Enumerable.Range(0, users).Select(i => (JsonNode)new JsonObject
        {
            ["provider"] = "ad", ["id"] = User(i), ["name"] = "user" + i.ToString(CultureInfo.InvariantCulture), ["groups"] = new JsonArray("Domain Users"),
        }).Concat(Enumerable.Range(0, 3).Select(i => (JsonNode)new JsonObject
        {
            ["provider"] = "ad", ["id"] = "da" + i.ToString(CultureInfo.InvariantCulture), ["name"] = "admin" + i.ToString(CultureInfo.InvariantCulture),
            ["groups"] = new JsonArray("Domain Users", "Domain Admins"),
        }));
        var groups = new JsonArray(
            new JsonObject { ["provider"] = "ad", ["id"] = "g-da", ["name"] = "Domain Admins" },
            new JsonObject { ["provider"] = "ad", ["id"] = "g-du", ["name"] = "Domain Users" });
        File.WriteAllBytes(Path.Combine(dir.Path, "directory.json"),
            SnapshotFormat.Write(new JsonObject { ["version"] = 1, ["groups"] = groups, ["users"] = new JsonArray([.. accounts]) }));
        Directory.CreateDirectory(Path.Combine(dir.Path, "rules"));
        File.WriteAllText(Path.Combine(dir.Path, "rules", "takeover.yaml"), """
            id: takeover-disable
            title: Disable an account taken over
            owner: tests
            mode: enforce
            match: { types: [account_takeover], providers: [ad] }
            actions:
              - action: disable_user
            """);
        File.WriteAllLines(Path.Combine(dir.Path, "findings.ndjson"), Enumerable.Range(0, users).Select(i =>
            $$"""{"id":"f{{i}}","source":"test","kind":"detection","type":"account_takeover","severity":"high","observed_at":"2026-11-20T08:00:00Z","subject":{"provider":"ad","id":"{{User(i)}}"},"title":"test"}"""));
    }

    private static Task<(int Code, string Output, string Error)> RunHostAsync(string dir, long crashAt) => CrashHostProcess.RunAsync("localrun", dir, crashAt);
}
