using System.Runtime.CompilerServices;
using System.Text.Json;
using System.Text.Json.Nodes;
using ResponseEngine.Configuration;
using ResponseEngine.Execution;
using ResponseEngine.Findings;
using ResponseEngine.Identities;

namespace ResponseEngine.Connectors.Local;

/// <summary>
/// The embedded default directory: a JSON snapshot (schemas/directory.schema.json) that actions really change. The
/// sample is copied to a working copy on first use and never written; every change re-reads the working copy and
/// replaces it atomically, one writer at a time across threads and processes.
/// </summary>
public sealed class LocalDirectory : IDisposable
{
    private static readonly JsonDocumentOptions DocumentOptions = new() { CommentHandling = JsonCommentHandling.Skip };

    private readonly SemaphoreSlim _writer = new(1, 1);
    private volatile StrongBox<(byte[] Bytes, LoadedDirectory Loaded)>? _lastReadBox;
    private readonly PrivilegedPolicy _policy;

    private LocalDirectory(string snapshotPath, string workingCopyPath, TimeProvider time, PrivilegedPolicy policy, TimeSpan lockTimeout)
    {
        SnapshotPath = Path.GetFullPath(snapshotPath);
        WorkingCopyPath = Path.GetFullPath(workingCopyPath);
        if (string.Equals(SnapshotPath, WorkingCopyPath, StringComparison.Ordinal))
        {
            throw new ArgumentException("the working copy must be another file than the sample snapshot, which is never changed", nameof(workingCopyPath));
        }

        LockPath = WorkingCopyPath + ".lock";
        Time = time;
        _policy = policy;
        LockTimeout = lockTimeout;
    }

    /// <summary>The sample the working copy starts from; read once, never written.</summary>
    public string SnapshotPath { get; }

    /// <summary>The file actions change.</summary>
    public string WorkingCopyPath { get; }

    /// <summary>Held with FileShare.None while a process changes the working copy.</summary>
    public string LockPath { get; }

    public TimeSpan LockTimeout { get; }

    internal TimeProvider Time { get; }

    /// <summary>Opens the local directory; nothing is read or copied until the first operation.</summary>
    public static LocalDirectory Open(string snapshotPath, string workingCopyPath, TimeProvider time, PrivilegedPolicy? policy = null, TimeSpan? lockTimeout = null)
    {
        ArgumentNullException.ThrowIfNull(time);
        return new LocalDirectory(snapshotPath, workingCopyPath, time, policy ?? PrivilegedPolicy.Default, lockTimeout ?? TimeSpan.FromSeconds(30));
    }

    /// <summary>Opens the local directory that respond.yaml describes, with relative paths taken from <paramref name="baseDirectory"/>.</summary>
    public static LocalDirectory Open(LocalDirectoryOptions options, string baseDirectory, TimeProvider time, PrivilegedPolicy? policy = null)
    {
        ArgumentNullException.ThrowIfNull(options);
        return Open(Path.Combine(baseDirectory, options.Snapshot), Path.Combine(baseDirectory, options.WorkingCopy), time, policy);
    }

    public void Dispose() => _writer.Dispose();

    /// <summary>The connector acting for one provider on this directory.</summary>
    public IConnector Connector(Provider provider) => new LocalDirectoryConnector(this, provider);

    /// <summary>One connector per provider, all sharing this directory; the shape the executor's run context takes.</summary>
    public IReadOnlyDictionary<Provider, IConnector> Connectors() => Providers.All.ToDictionary(p => p, Connector);

    /// <summary>The working copy as a snapshot: what the directory says now, for resolving identities when planning.</summary>
    /// <summary>The working copy's bytes as they are now: a valid snapshot file, for `respond snapshot`.</summary>
    public async Task<byte[]> ExportAsync(CancellationToken cancellationToken)
    {
        await EnsureWorkingCopyAsync(cancellationToken);
        return await ReadWorkingCopyAsync(cancellationToken);
    }

    public async Task<DirectorySnapshot> ReadSnapshotAsync(CancellationToken cancellationToken) =>
        (await LoadAsync(cancellationToken)).Snapshot;

    /// <summary>
    /// The working copy as it is on disk now, for reading only. The file is read every time (another process may have
    /// changed it); parsing and validating it again is skipped when its bytes are the ones last parsed.
    /// </summary>
    private (byte[] Bytes, LoadedDirectory Loaded)? _lastRead
    {
        get => _lastReadBox?.Value;
        set => _lastReadBox = value is { } v ? new StrongBox<(byte[] Bytes, LoadedDirectory Loaded)>(v) : null;
    }

    internal async Task<LoadedDirectory> LoadAsync(CancellationToken cancellationToken)
    {
        await EnsureWorkingCopyAsync(cancellationToken);
        var bytes = await ReadWorkingCopyAsync(cancellationToken);
        var cached = _lastRead;
        if (cached is not null && cached.Value.Bytes.AsSpan().SequenceEqual(bytes))
        {
            // The snapshot is immutable and shared; the JSON tree is not thread-safe, so each caller gets its own.
            return new LoadedDirectory(cached.Value.Loaded.Snapshot, () => ParseRoot(bytes));
        }

        var loaded = Parse(bytes);
        _lastRead = (bytes, loaded);
        return loaded;
    }

    /// <summary>
    /// Re-reads the working copy under the writer locks, lets <paramref name="change"/> edit the JSON, and replaces the
    /// file atomically when it reports a change. The edited file is validated before it is written.
    /// </summary>
    internal async Task ChangeAsync(Func<LoadedDirectory, bool> change, CancellationToken cancellationToken)
    {
        await EnsureWorkingCopyAsync(cancellationToken);
        await _writer.WaitAsync(cancellationToken);
        try
        {
            using var fileLock = await AcquireFileLockAsync(cancellationToken);
            var current = await ReadWorkingCopyAsync(cancellationToken);
            var cached = _lastRead;
            var loaded = cached is not null && cached.Value.Bytes.AsSpan().SequenceEqual(current)
                ? new LoadedDirectory(cached.Value.Loaded.Snapshot, ParseRoot(current)) // validated when these bytes were last read or written
                : Parse(current);
            if (!change(loaded)) return;
            var bytes = SnapshotFormat.Write(loaded.Root);
            var check = SnapshotReader.Read(bytes, WorkingCopyPath, _policy);
            if (check.Snapshot is null)
            {
                throw new InvalidOperationException("the local connector produced an invalid snapshot: " + string.Join("; ", check.Diagnostics));
            }

            await ReplaceAsync(WorkingCopyPath, bytes, cancellationToken);

            // The file now holds exactly these validated bytes: the next read (the executor's verify) finds them here
            // instead of validating the whole snapshot again. Reads still read the file and compare every byte.
            _lastRead = (bytes, new LoadedDirectory(check.Snapshot, loaded.Root));
        }
        finally
        {
            _writer.Release();
        }
    }

    private LoadedDirectory Parse(byte[] bytes)
    {
        var load = SnapshotReader.Read(bytes, WorkingCopyPath, _policy);
        if (load.Snapshot is null)
        {
            var errors = load.Diagnostics.Where(d => d.IsError).Take(3).Select(d => d.ToString());
            throw new ConnectorException($"the local directory {WorkingCopyPath} cannot be read: {string.Join("; ", errors)}");
        }

        return new LoadedDirectory(load.Snapshot, () => ParseRoot(bytes));
    }

    private JsonObject ParseRoot(byte[] bytes) =>
        JsonNode.Parse(bytes, documentOptions: DocumentOptions) as JsonObject
            ?? throw new ConnectorException($"the local directory {WorkingCopyPath} is not a JSON object");

    private async Task<byte[]> ReadWorkingCopyAsync(CancellationToken cancellationToken)
    {
        try
        {
            // FileShare.Delete lets a writer replace the file while it is being read (Windows); readers see the old or the new file, whole.
            await using var stream = new FileStream(WorkingCopyPath, FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete, 1 << 16, useAsync: true);
            using var buffer = new MemoryStream();
            await stream.CopyToAsync(buffer, cancellationToken);
            return buffer.ToArray();
        }
        catch (FileNotFoundException e)
        {
            throw new ConnectorException($"the local directory {WorkingCopyPath} does not exist", e);
        }
        catch (IOException e)
        {
            throw new ConnectorException($"the local directory {WorkingCopyPath} cannot be read: {e.Message}", transient: true, e);
        }
    }

    private async Task EnsureWorkingCopyAsync(CancellationToken cancellationToken)
    {
        if (File.Exists(WorkingCopyPath)) return;
        await _writer.WaitAsync(cancellationToken);
        try
        {
            using var fileLock = await AcquireFileLockAsync(cancellationToken);
            if (File.Exists(WorkingCopyPath)) return;
            if (!File.Exists(SnapshotPath))
            {
                throw new ConnectorException($"the sample directory snapshot {SnapshotPath} does not exist, so there is no working copy to start from");
            }

            await ReplaceAsync(WorkingCopyPath, await File.ReadAllBytesAsync(SnapshotPath, cancellationToken), cancellationToken);
        }
        finally
        {
            _writer.Release();
        }
    }

    /// <summary>The lock file next to the working copy, opened exclusively; other processes retry until the timeout.</summary>
    private async Task<FileStream> AcquireFileLockAsync(CancellationToken cancellationToken)
    {
        Directory.CreateDirectory(Path.GetDirectoryName(LockPath)!);

        // Waiting for another process is wall-clock time, not domain time: it must pass even under a fake clock.
        var clock = TimeProvider.System;
        var started = clock.GetTimestamp();
        var pause = TimeSpan.FromMilliseconds(5);
        while (true)
        {
            try
            {
                return new FileStream(LockPath, FileMode.OpenOrCreate, FileAccess.ReadWrite, FileShare.None, 1, FileOptions.None);
            }
            catch (IOException) when (clock.GetElapsedTime(started) < LockTimeout)
            {
                await Task.Delay(pause, clock, cancellationToken);
                pause = TimeSpan.FromMilliseconds(Math.Min(pause.TotalMilliseconds * 2, 100));
            }
            catch (IOException e)
            {
                throw new ConnectorException($"the local directory {WorkingCopyPath} is locked by another process ({LockPath}); gave up after {LockTimeout.TotalSeconds:0.#}s",
                    transient: true, e);
            }
            catch (UnauthorizedAccessException e)
            {
                throw new ConnectorException($"cannot open the lock file {LockPath}: {e.Message}", transient: false, e);
            }
        }
    }

    /// <summary>Write to a temporary file in the same folder, flush it to disk, then rename it over the target.</summary>
    private static async Task ReplaceAsync(string target, byte[] bytes, CancellationToken cancellationToken)
    {
        var folder = Path.GetDirectoryName(target)!;
        Directory.CreateDirectory(folder);
        var temp = Path.Combine(folder, $".{Path.GetFileName(target)}.{Guid.NewGuid():N}.tmp");
        try
        {
            await using (var stream = new FileStream(temp, FileMode.CreateNew, FileAccess.Write, FileShare.None, 1 << 16, useAsync: true))
            {
                await stream.WriteAsync(bytes, cancellationToken);
                await stream.FlushAsync(cancellationToken);
                stream.Flush(flushToDisk: true);
            }

            File.Move(temp, target, overwrite: true);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or OperationCanceledException)
        {
            TryDelete(temp);
            if (e is OperationCanceledException) throw;
            throw new ConnectorException($"cannot write the local directory {target}: {e.Message}", transient: e is IOException, e);
        }
    }

    private static void TryDelete(string path)
    {
        try
        {
            File.Delete(path);
        }
        catch (IOException)
        {
            // Best effort: a leftover temporary file never replaces the snapshot.
        }
        catch (UnauthorizedAccessException)
        {
            // Same.
        }
    }
}

/// <summary>
/// The working copy as read: the snapshot for facts, and the JSON tree to edit, parsed from the same bytes on first use
/// (resolving an identity or counting a critical group needs only the snapshot).
/// </summary>
internal sealed class LoadedDirectory
{
    private readonly Lazy<JsonObject> _root;

    public LoadedDirectory(DirectorySnapshot snapshot, JsonObject root)
        : this(snapshot, new Lazy<JsonObject>(root))
    {
    }

    public LoadedDirectory(DirectorySnapshot snapshot, Func<JsonObject> parseRoot)
        : this(snapshot, new Lazy<JsonObject>(parseRoot, LazyThreadSafetyMode.ExecutionAndPublication))
    {
    }

    private LoadedDirectory(DirectorySnapshot snapshot, Lazy<JsonObject> root)
    {
        Snapshot = snapshot;
        _root = root;
    }

    public DirectorySnapshot Snapshot { get; }

    public JsonObject Root => _root.Value;
}
