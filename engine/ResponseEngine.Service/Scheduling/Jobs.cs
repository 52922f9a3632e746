using Microsoft.Extensions.Logging;
using Quartz;
using ResponseEngine.Audit;
using ResponseEngine.Service.Pollers;
using ResponseEngine.Service.Processing;
using ResponseEngine.Service.Rules;

namespace ResponseEngine.Service.Scheduling;

/// <summary>The reconciler on a schedule: closes intents older than execution.reconcile_after by reading the live state; it never acts.</summary>
[DisallowConcurrentExecution]
public sealed class ReconcileQuartzJob(ServeSetup setup, StoreHealth health, ILogger<ReconcileQuartzJob> log) : IJob
{
    public async ValueTask Execute(IJobExecutionContext context, CancellationToken cancellationToken = default)
    {
        try
        {
            await ReconcileJob.ReconcileAsync(setup, log, cancellationToken);
        }
        catch (Exception e) when (StoreHealth.IsStoreFault(e))
        {
            health.Fault(e.Message, setup.Time.GetUtcNow());
            log.LogError("reconciler: the audit store is not reachable: {Message}", e.Message);
        }
    }
}

/// <summary>`git pull --ff-only` in the rules folder, then a reload (which validates and tests before it replaces anything).</summary>
[DisallowConcurrentExecution]
public sealed class GitPullQuartzJob(RuleSetHolder rules, ILogger<GitPullQuartzJob> log) : IJob
{
    public async ValueTask Execute(IJobExecutionContext context, CancellationToken cancellationToken = default)
    {
        var info = new System.Diagnostics.ProcessStartInfo("git") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (var arg in new[] { "-C", rules.Directory, "pull", "--ff-only", "--quiet" }) info.ArgumentList.Add(arg);
        try
        {
            using var git = System.Diagnostics.Process.Start(info)!;
            var error = await git.StandardError.ReadToEndAsync(cancellationToken);
            await git.WaitForExitAsync(cancellationToken);
            if (git.ExitCode != 0) log.LogError("git pull in {Directory} failed ({Code}): {Error}; the running rules stay", rules.Directory, git.ExitCode, error.Trim());
        }
        catch (System.ComponentModel.Win32Exception e)
        {
            log.LogError("git pull in {Directory} could not start: {Message}", rules.Directory, e.Message);
        }

        rules.Reload();
    }
}

/// <summary>One poller run: fetch what is new since the persisted cursor, commit it to the inbox, then move the cursor.</summary>
[DisallowConcurrentExecution]
public sealed class PollQuartzJob(PollerRegistry pollers) : IJob
{
    public const string PollerKey = "poller";

    public async ValueTask Execute(IJobExecutionContext context, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(context);
        await pollers.RunAsync(context.MergedJobDataMap.GetString(PollerKey)!, cancellationToken);
    }
}
