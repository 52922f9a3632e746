using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace ResponseEngine.Service.Rules;

/// <summary>
/// Reloads the rules when a file under the folder changes: file-system events are coalesced (an editor or a git
/// checkout writes several files) and a scan at a slow interval catches what the events miss (network file systems).
/// </summary>
public sealed class RuleWatcher(RuleSetHolder holder, TimeProvider time, ILogger<RuleWatcher> log, TimeSpan settle, TimeSpan rescan) : BackgroundService
{
    private readonly SemaphoreSlim _changed = new(0);

    public override void Dispose()
    {
        _changed.Dispose();
        base.Dispose();
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        using var watcher = TryWatch();
        while (!stoppingToken.IsCancellationRequested)
        {
            try
            {
                if (await _changed.WaitAsync(rescan, stoppingToken))
                {
                    // Let the burst of writes finish, then take every signal it raised.
                    await Task.Delay(settle, time, stoppingToken);
                    while (_changed.CurrentCount > 0) await _changed.WaitAsync(stoppingToken);
                }

                holder.Reload();
            }
            catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
            {
                return;
            }
        }
    }

    private FileSystemWatcher? TryWatch()
    {
        try
        {
            var watcher = new FileSystemWatcher(holder.Directory) { IncludeSubdirectories = true, NotifyFilter = NotifyFilters.FileName | NotifyFilters.DirectoryName | NotifyFilters.LastWrite | NotifyFilters.Size };
            FileSystemEventHandler changed = (_, _) => _changed.Release();
            watcher.Changed += changed;
            watcher.Created += changed;
            watcher.Deleted += changed;
            watcher.Renamed += (_, _) => _changed.Release();
            watcher.EnableRaisingEvents = true;
            return watcher;
        }
        catch (Exception e) when (e is IOException or ArgumentException or PlatformNotSupportedException)
        {
            log.LogWarning("cannot watch {Directory} for rule changes ({Message}); scanning every {Rescan}", holder.Directory, e.Message, rescan);
            return null;
        }
    }
}
