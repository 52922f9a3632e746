namespace ResponseEngine.Audit.Sqlite;

/// <summary>
/// The cross-process lock of the SQLite store: a lock file beside the database opened with <see cref="FileShare.None"/>.
/// On Linux and macOS .NET takes flock(LOCK_EX) on it, which other processes (and other handles in this one) respect;
/// on Windows the share mode itself excludes them. The database's own write lock cannot serve: the holder must still append.
/// </summary>
internal static class SqliteFileLock
{
    private static readonly TimeSpan FirstRetry = TimeSpan.FromMilliseconds(5);
    private static readonly TimeSpan LongestRetry = TimeSpan.FromMilliseconds(100);

    public static async Task<IAsyncDisposable> AcquireAsync(string lockPath, TimeSpan timeout, TimeProvider time, CancellationToken cancellationToken)
    {
        var infinite = timeout == Timeout.InfiniteTimeSpan;
        if (!infinite && timeout < TimeSpan.Zero) throw new ArgumentOutOfRangeException(nameof(timeout), timeout, "the timeout must be zero or more, or infinite");

        var started = time.GetTimestamp();
        var retry = FirstRetry;
        while (true)
        {
            cancellationToken.ThrowIfCancellationRequested();
            if (TryOpen(lockPath) is { } stream) return new Held(stream);

            var left = infinite ? LongestRetry : timeout - time.GetElapsedTime(started);
            if (left <= TimeSpan.Zero)
            {
                throw new TimeoutException($"audit store lock '{lockPath}' is held by another process or store; gave up after {timeout}");
            }

            await Task.Delay(left < retry ? left : retry, time, cancellationToken).ConfigureAwait(false);
            retry = retry * 2 < LongestRetry ? retry * 2 : LongestRetry;
        }
    }

    private static FileStream? TryOpen(string lockPath)
    {
        try
        {
            return new FileStream(lockPath, FileMode.OpenOrCreate, FileAccess.ReadWrite, FileShare.None, bufferSize: 1, FileOptions.None);
        }
        catch (IOException ex) when (ex is not (DirectoryNotFoundException or FileNotFoundException or PathTooLongException or DriveNotFoundException))
        {
            // Held elsewhere (a sharing violation); the file is never deleted, so a later open races with nothing.
            return null;
        }
    }

    private sealed class Held(FileStream stream) : IAsyncDisposable
    {
        private FileStream? _stream = stream;

        public ValueTask DisposeAsync()
        {
            Interlocked.Exchange(ref _stream, null)?.Dispose();
            return ValueTask.CompletedTask;
        }
    }
}
