using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using ResponseEngine.Configuration;
using ResponseEngine.Execution;
using ResponseEngine.Findings;
using ResponseEngine.Identities;

namespace ResponseEngine.Connectors.Local;

/// <summary>
/// The embedded default directory: a JSON snapshot (schemas/directory.schema.json) that actions really change. The
/// sample is copied to a working copy on first use and never written. The working copy is read once into an indexed
/// model (<see cref="LocalModel"/>); each change is checked, appended to a journal next to it (one line per changed
/// account: its whole entry after the change) and flushed to disk before it counts as done, one writer at a time across
/// threads and processes. Every operation first reads what other processes appended since; the journal is folded back
/// into the working copy (compacted) when it grows past the working copy's size and when the directory is disposed.
/// </summary>
public sealed class LocalDirectory : IDisposable
{
    /// <summary>A journal starts with this line and a generation: a compaction starts a new journal, so readers know to read the working copy again.</summary>
    private const string HeaderStart = "{\"respond_local_journal\": 1, \"generation\": \"";
    private const string HeaderEnd = "\"}\n";
    private static readonly int HeaderLength = Encoding.UTF8.GetByteCount(HeaderStart + Guid.Empty.ToString("N") + HeaderEnd);

    private readonly SemaphoreSlim _gate = new(1, 1);
    private readonly SemaphoreSlim _syncGate = new(1, 1);
    private readonly PrivilegedPolicy _policy;
    private LocalModel? _model;
    private byte[]? _header;
    private long _offset;
    private (long Length, DateTime Written) _loadedFile;
    private bool _disposed;
    private long _written;
    private long _synced;

    private LocalDirectory(string snapshotPath, string workingCopyPath, TimeProvider time, PrivilegedPolicy policy, TimeSpan lockTimeout)
    {
        SnapshotPath = Path.GetFullPath(snapshotPath);
        WorkingCopyPath = Path.GetFullPath(workingCopyPath);
        if (string.Equals(SnapshotPath, WorkingCopyPath, StringComparison.Ordinal))
        {
            throw new ArgumentException("the working copy must be another file than the sample snapshot, which is never changed", nameof(workingCopyPath));
        }

        LockPath = WorkingCopyPath + ".lock";
        JournalPath = WorkingCopyPath + ".journal";
        Time = time;
        _policy = policy;
        LockTimeout = lockTimeout;
    }

    /// <summary>The sample the working copy starts from; read once, never written.</summary>
    public string SnapshotPath { get; }

    /// <summary>The working copy: the snapshot every change is folded back into.</summary>
    public string WorkingCopyPath { get; }

    /// <summary>Changes made since the working copy was last written: one line per changed account, appended and flushed per change.</summary>
    public string JournalPath { get; }

    /// <summary>Held with FileShare.None while a process changes the working copy or its journal.</summary>
    public string LockPath { get; }

    public TimeSpan LockTimeout { get; }

    /// <summary>
    /// Called at each durable step of a change or a compaction, by name, before it and after it: crash tests stop the
    /// process there (tests/ResponseEngine.CrashHost). A journal line is then written in two halves, with a step between.
    /// </summary>
    public Action<string>? OnStep { get; set; }

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

    /// <summary>Folds the journal into the working copy (best effort: a journal left behind is read again next time), then releases the gate.</summary>
    public void Dispose()
    {
        if (_disposed) return;
        _disposed = true;
        try
        {
            // Flushed first, so the lines are durable even when the compaction cannot be written.
            SyncAsync(CancellationToken.None).GetAwaiter().GetResult();
            CompactAsync(CancellationToken.None).GetAwaiter().GetResult();
        }
        catch (ConnectorException)
        {
            // The journal stays; the next process reads it.
        }

        _gate.Dispose();
        _syncGate.Dispose();
    }

    /// <summary>The connector acting for one provider on this directory.</summary>
    public IConnector Connector(Provider provider) => new LocalDirectoryConnector(this, provider);

    /// <summary>One connector per provider, all sharing this directory; the shape the executor's run context takes.</summary>
    public IReadOnlyDictionary<Provider, IConnector> Connectors() => Providers.All.ToDictionary(p => p, Connector);

    /// <summary>The working copy as snapshot bytes, every change included: a valid snapshot file, for `respond snapshot`.</summary>
    public Task<byte[]> ExportAsync(CancellationToken cancellationToken) => ReadAsync(model => model.Write(), cancellationToken);

    /// <summary>The working copy as a snapshot: what the directory says now.</summary>
    public Task<DirectorySnapshot> ReadSnapshotAsync(CancellationToken cancellationToken) => ReadAsync(model => model.Snapshot(), cancellationToken);

    /// <summary>
    /// Folds the journal into the working copy now: writes the working copy (temporary file, flush, rename), then starts a
    /// new journal. A crash between the two leaves the old journal, whose lines the new working copy already holds:
    /// reading them again changes nothing.
    /// </summary>
    public async Task CompactAsync(CancellationToken cancellationToken)
    {
        if (!File.Exists(WorkingCopyPath) && !File.Exists(JournalPath)) return;
        await _gate.WaitAsync(cancellationToken);
        try
        {
            using var fileLock = await AcquireFileLockAsync(cancellationToken);
            if (!File.Exists(JournalPath)) return;

            // A process that never read the directory (a command on real connectors) does not load it only to find nothing to fold.
            if (_model is null && new FileInfo(JournalPath).Length <= HeaderLength) return;
            var model = await CatchUpAsync(cancellationToken);
            if (_offset <= HeaderLength && File.Exists(WorkingCopyPath)) return;
            await CompactLockedAsync(model, cancellationToken);
        }
        finally
        {
            _gate.Release();
        }
    }

    /// <summary>Answers from the model after reading what other processes have changed since.</summary>
    internal async Task<T> ReadAsync<T>(Func<LocalModel, T> read, CancellationToken cancellationToken)
    {
        await EnsureWorkingCopyAsync(cancellationToken);
        await _gate.WaitAsync(cancellationToken);
        try
        {
            return read(await CatchUpAsync(cancellationToken));
        }
        finally
        {
            _gate.Release();
        }
    }

    /// <summary>
    /// Under the writer locks, reads every change made so far, lets <paramref name="change"/> return the edited entry of
    /// one account (a copy: the model is not touched) or null for no change, checks it, appends it to the journal and
    /// flushes it to disk, and only then applies it to the model.
    /// </summary>
    /// <param name="change">The edit, under the locks.</param>
    /// <param name="durable">
    /// True: the line is flushed to disk before this returns. False: it is written (every process sees it, and it survives
    /// the process) but reaches the disk with the next <see cref="SyncAsync"/>, shared with the changes made meanwhile.
    /// </param>
    /// <param name="cancellationToken">Cancels waiting for the locks.</param>
    internal async Task ChangeAsync(Func<LocalModel, JsonObject?> change, bool durable, CancellationToken cancellationToken)
    {
        await EnsureWorkingCopyAsync(cancellationToken);
        await _gate.WaitAsync(cancellationToken);
        try
        {
            using var fileLock = await AcquireFileLockAsync(cancellationToken);
            var model = await CatchUpAsync(cancellationToken);
            if (change(model) is not { } entry) return;
            PreparedChange prepared;
            try
            {
                prepared = model.Prepare(entry);
            }
            catch (InvalidOperationException e)
            {
                throw new InvalidOperationException($"the local connector produced an invalid snapshot: {e.Message}", e);
            }

            await AppendAsync(Encoding.UTF8.GetBytes(entry.ToJsonString() + "\n"), durable, cancellationToken);
            model.Commit(prepared);
            if (_offset > Math.Max(1 << 20, new FileInfo(WorkingCopyPath).Length)) await CompactLockedAsync(model, cancellationToken);
        }
        finally
        {
            _gate.Release();
        }
    }

    /// <summary>
    /// The model with every change on disk: read whole when there is none yet or when the journal was started again
    /// (another process compacted it, or the working copy was made anew), otherwise only the journal lines appended since.
    /// The journal is opened before the working copy is read, so a compaction in between is either wholly seen or its
    /// old journal is read again over the new working copy, which already holds it.
    /// </summary>
    private async Task<LocalModel> CatchUpAsync(CancellationToken cancellationToken)
    {
        FileStream? journal = null;
        try
        {
            try
            {
                journal = new FileStream(JournalPath, FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete, 1 << 16, FileOptions.None);
            }
            catch (FileNotFoundException)
            {
                journal = null;
            }
            catch (DirectoryNotFoundException)
            {
                journal = null;
            }

            var header = journal is null ? null : ReadHeader(journal);
            // A working copy that is not the file last read or written (a person edited or replaced it) is read again, and the
            // journal's lines over it: each line is an account's whole entry after a change, so reading one again changes nothing.
            if (_model is null || !SameHeader(header, _header) || FileStamp(WorkingCopyPath) != _loadedFile)
            {
                _model = null;
                var stamp = FileStamp(WorkingCopyPath);
                var model = LocalModel.Load(await ReadFileAsync(WorkingCopyPath, cancellationToken), WorkingCopyPath, _policy);
                _loadedFile = stamp;
                _header = header;
                _offset = header is null ? 0 : HeaderLength;
                _model = model;
            }

            if (journal is not null && header is not null && journal.Length > _offset) Replay(_model, journal);
            return _model;
        }
        catch (IOException e)
        {
            _model = null;
            throw new ConnectorException($"the local directory {WorkingCopyPath} cannot be read: {e.Message}", transient: true, e);
        }
        catch
        {
            _model = null;
            throw;
        }
        finally
        {
            journal?.Dispose();
        }
    }

    /// <summary>
    /// Applies the complete lines after the offset. A last line without its newline is a write that a crash cut short: it
    /// never counted as done, is not applied, and the next writer cuts it off. A damaged line before the end is an error.
    /// </summary>
    private void Replay(LocalModel model, FileStream journal)
    {
        journal.Seek(_offset, SeekOrigin.Begin);
        var bytes = new byte[journal.Length - _offset];
        var read = 0;
        while (read < bytes.Length)
        {
            var n = journal.Read(bytes.AsSpan(read));
            if (n == 0) break;
            read += n;
        }

        var span = bytes.AsSpan(0, read);
        var at = 0;
        while (at < span.Length)
        {
            var newline = span[at..].IndexOf((byte)'\n');
            if (newline < 0) break; // cut short by a crash; never acknowledged
            var line = span.Slice(at, newline);
            try
            {
                model.Commit(model.Prepare(LocalModel.ParseEntry(line)));
            }
            catch (Exception e) when (e is JsonException or InvalidOperationException or FormatException)
            {
                throw new ConnectorException($"the local directory journal {JournalPath} is damaged at byte {_offset + at}: {e.Message}; "
                    + "move it aside to continue from the working copy without the changes it holds");
            }

            at += newline + 1;
        }

        _offset += at;

        // Lines another process wrote may not be on disk yet (it flushes them only before its outcome rows, and may have
        // died first): the next SyncAsync flushes them too, before anything here, such as the reconciler, records them as done.
        if (at > 0) Interlocked.Increment(ref _written);
    }

    /// <summary>
    /// Makes every journal line this instance has written so far durable: one flush to disk of the journal for all the
    /// lines written since the last one (group flush: callers arriving while a flush is under way share the next one).
    /// Lines a compaction has folded into the working copy are durable already (the working copy is flushed before its rename).
    /// </summary>
    public async Task SyncAsync(CancellationToken cancellationToken)
    {
        var target = Interlocked.Read(ref _written);
        if (Interlocked.Read(ref _synced) >= target) return;

        // Off the caller's thread: a flush blocks it, and the executor's lane goes on to its next action meanwhile.
        await Task.Yield();
        await _syncGate.WaitAsync(cancellationToken);
        try
        {
            if (Interlocked.Read(ref _synced) >= target) return; // flushed by the caller before
            long upTo;
            FileStream? journal;
            await _gate.WaitAsync(CancellationToken.None);
            try
            {
                // Every line counted in _written is in this file or folded into the working copy by a compaction.
                upTo = Interlocked.Read(ref _written);
                journal = OpenForSync();
            }
            finally
            {
                _gate.Release();
            }

            using (journal)
            {
                Step("journal.sync");
                journal?.Flush(flushToDisk: true);
                Step("journal.synced");
            }

            Interlocked.Exchange(ref _synced, upTo);
        }
        catch (IOException e)
        {
            throw new ConnectorException($"cannot flush the local directory journal {JournalPath} to disk: {e.Message}", transient: true, e);
        }
        catch (UnauthorizedAccessException e)
        {
            throw new ConnectorException($"cannot flush the local directory journal {JournalPath} to disk: {e.Message}", transient: false, e);
        }
        finally
        {
            _syncGate.Release();
        }
    }

    /// <summary>A handle on the journal to flush it through (any handle flushes the file's written data), or null when there is none.</summary>
    private FileStream? OpenForSync()
    {
        try
        {
            return new FileStream(JournalPath, FileMode.Open, FileAccess.Write, FileShare.ReadWrite | FileShare.Delete, 1, FileOptions.None);
        }
        catch (FileNotFoundException)
        {
            return null; // started over: no journal holds the lines any more
        }
    }

    /// <summary>Appends one line (flushed to disk when <paramref name="durable"/>), after cutting off a line a crashed writer left unfinished.</summary>
    private async Task AppendAsync(byte[] line, bool durable, CancellationToken cancellationToken)
    {
        try
        {
            if (_header is null)
            {
                await StartJournalAsync(cancellationToken);
            }

            // Small synchronous writes: no thread-pool hop per change.
            using var stream = new FileStream(JournalPath, FileMode.Open, FileAccess.ReadWrite, FileShare.ReadWrite | FileShare.Delete, 1, FileOptions.None);
            if (stream.Length != _offset) stream.SetLength(_offset);
            stream.Seek(_offset, SeekOrigin.Begin);
            Step("journal.append");
            if (OnStep is not null)
            {
                stream.Write(line.AsSpan(0, line.Length / 2));
                stream.Flush();
                Step("journal.half");
                stream.Write(line.AsSpan(line.Length / 2));
            }
            else
            {
                stream.Write(line);
            }

            stream.Flush(flushToDisk: durable);
            _offset += line.Length;
            Interlocked.Increment(ref _written);
            if (durable) Interlocked.Exchange(ref _synced, Interlocked.Read(ref _written));
            Step(durable ? "journal.flushed" : "journal.written");
        }
        catch (IOException e)
        {
            throw new ConnectorException($"cannot write the local directory journal {JournalPath}: {e.Message}", transient: true, e);
        }
        catch (UnauthorizedAccessException e)
        {
            throw new ConnectorException($"cannot write the local directory journal {JournalPath}: {e.Message}", transient: false, e);
        }
    }

    /// <summary>A new, empty journal with a new generation, replacing any other (temporary file, flush, rename).</summary>
    private async Task StartJournalAsync(CancellationToken cancellationToken)
    {
        var header = Encoding.UTF8.GetBytes(HeaderStart + Guid.NewGuid().ToString("N") + HeaderEnd);
        Step("journal.start");
        await ReplaceAsync(JournalPath, header, cancellationToken);
        _header = header;
        _offset = header.Length;
        Step("journal.started");
    }

    private async Task CompactLockedAsync(LocalModel model, CancellationToken cancellationToken)
    {
        Step("compact.write");
        await ReplaceAsync(WorkingCopyPath, model.Write(), cancellationToken);
        _loadedFile = FileStamp(WorkingCopyPath);
        Step("compact.written");
        await StartJournalAsync(cancellationToken);
    }

    private void Step(string name) => OnStep?.Invoke(name);

    private static byte[]? ReadHeader(FileStream journal)
    {
        var header = new byte[HeaderLength];
        var read = 0;
        while (read < header.Length)
        {
            var n = journal.Read(header.AsSpan(read));
            if (n == 0) return null; // a journal cut short before its header was complete holds no change
            read += n;
        }

        return header;
    }

    private static (long Length, DateTime Written) FileStamp(string path)
    {
        var info = new FileInfo(path);
        return info.Exists ? (info.Length, info.LastWriteTimeUtc) : (-1, default);
    }

    private static bool SameHeader(byte[]? a, byte[]? b) => a is null ? b is null : b is not null && a.AsSpan().SequenceEqual(b);

    private static async Task<byte[]> ReadFileAsync(string path, CancellationToken cancellationToken)
    {
        try
        {
            // FileShare.Delete lets a writer replace the file while it is being read (Windows); readers see the old or the new file, whole.
            await using var stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete, 1 << 16, useAsync: true);
            using var buffer = new MemoryStream();
            await stream.CopyToAsync(buffer, cancellationToken);
            return buffer.ToArray();
        }
        catch (FileNotFoundException e)
        {
            throw new ConnectorException($"the local directory {path} does not exist", e);
        }
        catch (IOException e)
        {
            throw new ConnectorException($"the local directory {path} cannot be read: {e.Message}", transient: true, e);
        }
    }

    /// <summary>Copies the sample to the working copy when there is none, and starts its journal afresh (a journal of another working copy is never read over it).</summary>
    private async Task EnsureWorkingCopyAsync(CancellationToken cancellationToken)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        if (File.Exists(WorkingCopyPath)) return;
        await _gate.WaitAsync(cancellationToken);
        try
        {
            using var fileLock = await AcquireFileLockAsync(cancellationToken);
            if (File.Exists(WorkingCopyPath)) return;
            if (!File.Exists(SnapshotPath))
            {
                throw new ConnectorException($"the sample directory snapshot {SnapshotPath} does not exist, so there is no working copy to start from");
            }

            _model = null;
            TryDelete(JournalPath);
            _header = null;
            await ReplaceAsync(WorkingCopyPath, await File.ReadAllBytesAsync(SnapshotPath, cancellationToken), cancellationToken);
        }
        finally
        {
            _gate.Release();
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

    /// <summary>Write to a temporary file in the same folder, flush it to disk, rename it over the target, flush the folder (the rename itself survives a power loss).</summary>
    private static async Task ReplaceAsync(string target, byte[] bytes, CancellationToken cancellationToken)
    {
        try
        {
            await DurableFolder.ReplaceAsync(target, bytes, cancellationToken);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
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
