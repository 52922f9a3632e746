using System.Diagnostics;
using Microsoft.Data.Sqlite;
using ResponseEngine.Audit;
using ResponseEngine.Audit.Sqlite;
using ResponseEngine.TestKit;

namespace ResponseEngine.Core.Tests;

/// <summary>
/// The engine as a real process, SIGKILLed between an applied action and its outcome row; after a restart the
/// action is reconciled from the live state, never done twice.
/// </summary>
public sealed class CrashRecoveryTests : IDisposable
{
    private readonly TempDirectory _dir = new();

    public CrashRecoveryTests()
    {
        File.Copy(RepoPaths.SampleDirectory, Path.Combine(_dir.Path, "directory.json"));
        _dir.Write("rules/disable.yaml", RuleFiles.Rule(id: "disable", types: "[account_takeover]", providers: "[okta]"));
        var users = new[] { "oscar.tanaka@corp.example.com", "chen.holt@corp.example.com" };
        _dir.Write("findings.ndjson", string.Join('\n', users.Select((u, i) =>
            "{\"id\":\"c" + i + "\",\"source\":\"t\",\"type\":\"account_takeover\",\"severity\":\"high\",\"observed_at\":\"2026-11-20T08:00:00Z\",\"subject\":{\"provider\":\"okta\",\"name\":\"" + u + "\"}}")));
    }

    public void Dispose()
    {
        SqliteConnection.ClearAllPools();
        _dir.Dispose();
    }

    private static ProcessStartInfo Host(string mode, string dir, bool block)
    {
        var info = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        info.ArgumentList.Add(Path.Combine(AppContext.BaseDirectory, "ResponseEngine.CrashHost.dll"));
        info.ArgumentList.Add(mode);
        info.ArgumentList.Add(dir);
        info.Environment["CRASH_BLOCK"] = block ? "1" : "0";
        return info;
    }

    [Fact]
    public async Task Sigkill_BetweenIntentAndOutcome_IsReconciledNotDoneTwice()
    {
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(90));
        string killedAfter;
        using (var victim = Process.Start(Host("run", _dir.Path, block: true))!)
        {
            var error = victim.StandardError.ReadToEndAsync(timeout.Token);
            string? line;
            try
            {
                line = await victim.StandardOutput.ReadLineAsync(timeout.Token);
            }
            finally
            {
                victim.Kill(entireProcessTree: true); // SIGKILL: no outcome row, no clean-up
                await victim.WaitForExitAsync(CancellationToken.None);
            }

            line.Should().StartWith("APPLIED disable_user", await error);
            killedAfter = line!.Split(' ')[2];
        }

        await using (var store = new SqliteAuditStore(Path.Combine(_dir.Path, "respond.db"), TimeProvider.System))
        {
            // The executor writes the intents of a guard batch together before acting, so the second finding's intent is
            // open too (its action never started); the applied one is open because the process died before its outcome.
            var open = await store.OpenIntentsAsync(CancellationToken.None);
            open.Should().Contain(r => r.Entry.IdentityId == killedAfter, "the process died between intent and outcome").And.HaveCountLessThanOrEqualTo(2);
        }

        SqliteConnection.ClearAllPools();
        var reconcile = await RunToEndAsync(Host("reconcile", _dir.Path, block: false), timeout.Token);
        reconcile.Should().MatchRegex(@"RECONCILED \d+ succeeded reconciled after restart: the change is in place");

        var rerun = await RunToEndAsync(Host("run", _dir.Path, block: false), timeout.Token);
        rerun.Should().StartWith("DONE ");

        var applied = File.ReadAllLines(Path.Combine(_dir.Path, "applied.log"));
        applied.Should().OnlyHaveUniqueItems("each action is executed at most once").And.HaveCount(2);
        SqliteConnection.ClearAllPools();
        await using var verify = new SqliteAuditStore(Path.Combine(_dir.Path, "respond.db"), TimeProvider.System);
        (await verify.OpenIntentsAsync(CancellationToken.None)).Should().BeEmpty();
        (await verify.VerifyAsync(CancellationToken.None)).Intact.Should().BeTrue();
        var rows = await verify.ReadAsync(new AuditQuery(), CancellationToken.None);
        var intents = rows.Where(r => r.Entry.Status == AuditStatus.Intended).ToList();
        intents.Where(r => r.Entry.IdentityId == killedAfter).Should().ContainSingle("the action the crash interrupted was reconciled from the live state, not re-run");
        var reconciledFailed = rows.Count(r => r.Entry.Status == AuditStatus.Failed && intents.Any(i => i.Sequence == r.Entry.IntentSequence && i.Entry.IdentityId != killedAfter));
        intents.Should().HaveCount(2 + reconciledFailed, "one intent per action, plus one for each intent that never took effect and was decided again");
        foreach (var line in applied)
        {
            var target = line.Split(' ')[1];
            intents.Should().Contain(r => r.Entry.IdentityId == target, "every executed action is preceded by its intent row");
        }
    }

    private static async Task<string> RunToEndAsync(ProcessStartInfo info, CancellationToken cancellationToken)
    {
        using var process = Process.Start(info)!;
        var output = await process.StandardOutput.ReadToEndAsync(cancellationToken);
        var error = await process.StandardError.ReadToEndAsync(cancellationToken);
        await process.WaitForExitAsync(cancellationToken);
        process.ExitCode.Should().Be(0, error);
        return output;
    }
}
