using System.Diagnostics;
using System.Globalization;
using Microsoft.Data.Sqlite;
using Microsoft.Extensions.Time.Testing;
using ResponseEngine.Audit;
using ResponseEngine.Audit.Sqlite;
using ResponseEngine.Cli;
using ResponseEngine.TestKit;

namespace ResponseEngine.Reliability.Tests.Crash;

/// <summary>
/// The real `respond run --once`, as a child process against an Okta org served on loopback, SIGKILLed while one action's
/// call is in flight (held at the org before it reaches it, or after it changed the org and before the answer leaves);
/// then the next `respond run --once`, ten minutes later — past reconcile_after, inside every rule's 24 h cooldown —
/// reconciles the interrupted intent and finishes every decision: each planned action took effect exactly once, after
/// its durable intent, and nothing is left open. Before cooldown counted only effects, the retry of an attempt that
/// never landed was refused by the cooldown and its action was lost.
/// </summary>
public sealed class RespondRunKillTests(OktaOrgServerFixture fixture) : IClassFixture<OktaOrgServerFixture>
{
    /// <summary>The change the org holds: two actions have completed by then, the rest of the run has not started.</summary>
    private const int HeldChange = 3;

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task RespondRun_SigkilledMidAction_NextRunFinishesEveryDecisionOnceDespiteTheCooldown(bool landed)
    {
        var scenario = CrashScenario.For(seed: 7, users: 12);
        using var dir = Reliability.ScratchDirectory();
        scenario.WriteInputs(dir);
        var audit = Path.Combine(dir.Path, "respond.db");
        fixture.Server.Serve(scenario.Org(fixture.Server.BaseUrl), audit);
        var config = dir.Write("respond.yaml", $$"""
            rules: {{Path.Combine(dir.Path, "rules")}}
            findings: [{{Path.Combine(dir.Path, "findings.ndjson")}}]
            audit: { store: sqlite, connection: {{audit}} }
            connectors:
              okta: { kind: okta, base_url: "{{fixture.Server.BaseUrl}}", auth: api_token, token_env: RESPOND_TEST_KILL_OKTA_TOKEN }
            """);
        var environment = new Dictionary<string, string> { ["RESPOND_TEST_KILL_OKTA_TOKEN"] = CrashScenario.OrgToken };

        // The first run: killed while the org holds its third state-changing call.
        var held = fixture.Server.HoldChangeAsync(HeldChange, landed);
        var (killedCode, killedOutput) = await RunUntilHeldThenKillAsync(dir.Path, config, environment, held);
        var (heldAction, heldUser) = await held;
        fixture.Server.Release();
        killedCode.Should().NotBe(0, "SIGKILL ends the process at once\n" + killedOutput);
        SqliteConnection.ClearAllPools();
        int open;
        await using (var store = new SqliteAuditStore(audit, TimeProvider.System))
        {
            // The guard phase wrote the intents of the whole batch before the first call: the held one and those not started.
            var intents = await store.OpenIntentsAsync(Ct);
            intents.Should().Contain(r => r.Entry.Action == heldAction && r.Entry.IdentityId == heldUser, "the kill left the held action's intent without an outcome");
            open = intents.Count;
        }

        SqliteConnection.ClearAllPools();

        // The next `respond run --once`, ten minutes on: the interrupted intent is past reconcile_after (5 min), every
        // action done so far is inside its rule's 24 h cooldown.
        var time = new FakeTimeProvider(TimeProvider.System.GetUtcNow() + TimeSpan.FromMinutes(10));
        using var output = new StringWriter(CultureInfo.InvariantCulture);
        using var error = new StringWriter(CultureInfo.InvariantCulture);
        Environment.SetEnvironmentVariable("RESPOND_TEST_KILL_OKTA_TOKEN", CrashScenario.OrgToken);
        int code;
        try
        {
            code = await Task.Run(() => CliApp.Run(["run", "--once", "--config", config], output, error, time), Ct);
        }
        finally
        {
            Environment.SetEnvironmentVariable("RESPOND_TEST_KILL_OKTA_TOKEN", null);
        }

        var because = $"held {heldAction} on {heldUser} ({(landed ? "after" : "before")} it reached the org)\n{output}\n{error}";
        code.Should().Be(0, because);
        error.ToString().Should().Contain($"{heldAction} on okta:", because).And.Contain(landed ? ": succeeded" : ": failed", because);

        var effects = fixture.Server.Effects;
        effects.GroupBy(e => (e.Action, e.UserId, e.GroupId)).Where(g => g.Count() > 1).Should().BeEmpty("each action takes effect at most once; " + because);
        effects.Should().OnlyContain(e => e.IntentWasOpen, "every effect follows its durable intent; " + because);
        effects.Select(e => new ExpectedAction(e.Action, e.UserId, e.GroupId)).Should().BeEquivalentTo(scenario.Expected,
            "every planned action took effect once, the interrupted one included; " + because);

        SqliteConnection.ClearAllPools();
        await using (var store = new SqliteAuditStore(audit, TimeProvider.System))
        {
            (await store.OpenIntentsAsync(Ct)).Should().BeEmpty(because);
            (await store.VerifyAsync(Ct)).Intact.Should().BeTrue(because);
            var rows = await store.ReadAsync(new AuditQuery(), Ct);
            var last = rows.Where(r => r.Entry.FindingId is not null && r.Entry.Action is not null)
                .GroupBy(r => (r.Entry.FindingId, r.Entry.Action))
                .ToDictionary(g => g.Key, g => g.MaxBy(r => r.Sequence)!.Entry);
            var unfinished = scenario.Findings.Select((f, i) => (Id: "f" + i.ToString(CultureInfo.InvariantCulture), f.Type))
                .SelectMany(f => CrashScenario.ActionsFor(f.Type).Select(a => (f.Id, Action: a)))
                .Where(d => !last.TryGetValue(d, out var entry) || entry.Status is not (AuditStatus.Succeeded or AuditStatus.Noop or AuditStatus.Skipped))
                .ToList();
            unfinished.Should().BeEmpty("every decision ends done or refused with a reason; " + because);
            var interrupted = rows.Where(r => r.Entry.Action == heldAction && r.Entry.IdentityId == heldUser && r.Entry.Status == AuditStatus.Intended).ToList();
            interrupted.Should().HaveCount(landed ? 1 : 2, landed
                ? "the change was in place: reconciled as succeeded, not redone; " + because
                : "not in place: closed failed, then retried once under every guard; " + because);
            Reliability.Record("respond-run-kill", $"landed={landed} held={heldAction} actions={scenario.ActionCount} open-after-kill={open} effects={effects.Count} duplicated=0 "
                + $"intents={rows.Count(r => r.Entry.Status == AuditStatus.Intended)} retried={(landed ? 0 : 1)}");
        }

        SqliteConnection.ClearAllPools();
    }

    /// <summary>Starts `respond run --once`, waits until the org holds a call (or the process ends first: a failure), and SIGKILLs it.</summary>
    private static async Task<(int Code, string Output)> RunUntilHeldThenKillAsync(string workingDirectory, string config,
        IReadOnlyDictionary<string, string> environment, Task held)
    {
        var info = new ProcessStartInfo("dotnet")
        {
            WorkingDirectory = workingDirectory,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        info.ArgumentList.Add(CliProcess.RespondDll);
        foreach (var arg in new[] { "run", "--once", "--config", config }) info.ArgumentList.Add(arg);
        info.Environment["NO_COLOR"] = "1";
        info.Environment["RESPOND_NO_PROGRESS"] = "1";
        foreach (var (key, value) in environment) info.Environment[key] = value;
        using var process = Process.Start(info)!;
        using var deadline = CancellationTokenSource.CreateLinkedTokenSource(Ct);
        deadline.CancelAfter(TimeSpan.FromMinutes(3));
        var output = process.StandardOutput.ReadToEndAsync(deadline.Token);
        var error = process.StandardError.ReadToEndAsync(deadline.Token);
        var exited = process.WaitForExitAsync(deadline.Token);
        var first = await Task.WhenAny(held, exited);
        if (first == exited)
        {
            throw new InvalidOperationException($"respond run ended (exit {process.ExitCode}) before the org held a call:\n{await output}\n{await error}");
        }

        process.Kill(); // SIGKILL: no finally blocks, no outcome row
        await exited;
        return (process.ExitCode, await output + await error);
    }
}
