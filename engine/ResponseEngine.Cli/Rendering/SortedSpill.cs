using Microsoft.Win32.SafeHandles;

namespace ResponseEngine.Cli.Rendering;

/// <summary>One rendered piece of a plan waiting for its place: where it sorts (group, then key, then arrival) and its text.</summary>
internal sealed record SpillRecord(int Group, string Key, long Sequence, string?[] Fields);

/// <summary>
/// The decisions of a streamed plan put in a reader's order (per identity, per rule) with memory bounded by a budget,
/// not by their number: records are held until the budget is reached, then sorted and written to a temporary file as
/// one sorted run; at the end the runs are merged (a reader of a few KB per run; more than <see cref="FanIn"/> runs are
/// first merged into fewer). A plan that fits the budget never touches the disk. The order is total and stable: group,
/// then key by <c>keyOrder</c>, then key ordinally, then arrival, so equal keys keep the plan's order.
/// </summary>
internal sealed class SortedSpill : IDisposable
{
    /// <summary>Estimated bytes held in memory before a run is written (strings are two bytes a character, plus the objects).</summary>
    internal const long DefaultBudgetBytes = 32L << 20;

    /// <summary>At most this many runs are merged at once.</summary>
    internal const int FanIn = 64;

    private const int ReadBuffer = 16 << 10;
    private readonly List<SpillRecord> _held = [];
    private readonly List<Run> _runs = [];
    private readonly Comparer<SpillRecord> _order;
    private readonly long _budget;
    private long _heldBytes;
    private long _sequence;
    private FileStream? _file;

    public SortedSpill(StringComparer keyOrder, long? budgetBytes = null)
    {
        ArgumentNullException.ThrowIfNull(keyOrder);
        _budget = budgetBytes ?? DefaultBudgetBytes;
        _order = Comparer<SpillRecord>.Create((a, b) =>
        {
            var c = a.Group.CompareTo(b.Group);
            if (c == 0) c = keyOrder.Compare(a.Key, b.Key);
            if (c == 0) c = string.CompareOrdinal(a.Key, b.Key);
            return c != 0 ? c : a.Sequence.CompareTo(b.Sequence);
        });
    }

    /// <summary>Runs written to the temporary file so far (0 while everything fits the budget).</summary>
    public int RunCount => _runs.Count;

    public void Add(int group, string key, params string?[] fields)
    {
        ArgumentNullException.ThrowIfNull(key);
        ArgumentNullException.ThrowIfNull(fields);
        _held.Add(new SpillRecord(group, key, _sequence++, fields));
        _heldBytes += 96 + 2L * key.Length + fields.Sum(f => 24 + 2L * (f?.Length ?? 0));
        if (_heldBytes >= _budget) SpillHeld();
    }

    /// <summary>Every record added, in order. Call once, after the last <see cref="Add"/>.</summary>
    public IEnumerable<SpillRecord> Drain()
    {
        if (_runs.Count == 0)
        {
            _held.Sort(_order);
            foreach (var record in _held) yield return record;
            _held.Clear();
            yield break;
        }

        SpillHeld();
        while (_runs.Count > FanIn)
        {
            // Too many runs to read at once: merge the first FanIn into one run at the end of the file.
            var batch = _runs.GetRange(0, FanIn);
            _runs.RemoveRange(0, FanIn);
            _runs.Add(WriteRun(Merge(batch)));
        }

        foreach (var record in Merge([.. _runs])) yield return record;
    }

    public void Dispose() => _file?.Dispose();

    private void SpillHeld()
    {
        if (_held.Count == 0) return;
        _held.Sort(_order);
        _runs.Add(WriteRun(_held));
        _held.Clear();
        _heldBytes = 0;
    }

    private Run WriteRun(IEnumerable<SpillRecord> records)
    {
        _file ??= new FileStream(Path.Combine(Path.GetTempPath(), $"respond-plan-{Environment.ProcessId}-{Guid.NewGuid():N}.spill"),
            FileMode.CreateNew, FileAccess.ReadWrite, FileShare.None, 1 << 16, FileOptions.DeleteOnClose);
        var start = _file.Seek(0, SeekOrigin.End);
        var count = 0L;
        using (var writer = new BinaryWriter(_file, System.Text.Encoding.UTF8, leaveOpen: true))
        {
            foreach (var record in records)
            {
                writer.Write(record.Group);
                writer.Write(record.Key);
                writer.Write(record.Sequence);
                writer.Write(record.Fields.Length);
                foreach (var field in record.Fields)
                {
                    writer.Write(field is not null);
                    if (field is not null) writer.Write(field);
                }

                count++;
            }
        }

        _file.Flush();
        return new Run(start, _file.Position - start, count);
    }

    private IEnumerable<SpillRecord> Merge(IReadOnlyList<Run> runs)
    {
        var readers = runs.Select(r => new RunReader(new BinaryReader(new BufferedStream(new RunStream(_file!.SafeFileHandle, r.Start, r.Length), ReadBuffer), System.Text.Encoding.UTF8), r.Count)).ToList();
        try
        {
            var queue = new PriorityQueue<(SpillRecord Record, int Run), SpillRecord>(_order);
            for (var i = 0; i < readers.Count; i++)
            {
                if (Read(readers[i]) is { } first) queue.Enqueue((first, i), first);
            }

            while (queue.TryDequeue(out var next, out _))
            {
                yield return next.Record;
                if (Read(readers[next.Run]) is { } following) queue.Enqueue((following, next.Run), following);
            }
        }
        finally
        {
            foreach (var reader in readers) reader.Reader.Dispose();
        }
    }

    private static SpillRecord? Read(RunReader run)
    {
        if (run.Left == 0) return null;
        run.Left--;
        var reader = run.Reader;
        var group = reader.ReadInt32();
        var key = reader.ReadString();
        var sequence = reader.ReadInt64();
        var fields = new string?[reader.ReadInt32()];
        for (var i = 0; i < fields.Length; i++) fields[i] = reader.ReadBoolean() ? reader.ReadString() : null;
        return new SpillRecord(group, key, sequence, fields);
    }

    /// <summary>A sorted run in the spill file: where it starts, its bytes and its records.</summary>
    private readonly record struct Run(long Start, long Length, long Count);

    private sealed class RunReader(BinaryReader reader, long count)
    {
        public BinaryReader Reader { get; } = reader;

        public long Left { get; set; } = count;
    }

    /// <summary>One run of the spill file, read at its own position (runs are read side by side through one handle).</summary>
    private sealed class RunStream(SafeFileHandle handle, long start, long length) : Stream
    {
        private long _position;

        public override bool CanRead => true;

        public override bool CanSeek => false;

        public override bool CanWrite => false;

        public override long Length => length;

        public override long Position { get => _position; set => throw new NotSupportedException(); }

        public override int Read(byte[] buffer, int offset, int count) => Read(buffer.AsSpan(offset, count));

        public override int Read(Span<byte> buffer)
        {
            var wanted = (int)Math.Min(buffer.Length, length - _position);
            if (wanted <= 0) return 0;
            var read = RandomAccess.Read(handle, buffer[..wanted], start + _position);
            _position += read;
            return read;
        }

        public override void Flush()
        {
        }

        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

        public override void SetLength(long value) => throw new NotSupportedException();

        public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();
    }
}
