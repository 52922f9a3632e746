using System.Buffers;
using System.Globalization;
using System.Text.Json;

namespace ResponseEngine.Planning;

/// <summary>What a plan file (<see cref="PlanJsonWriter"/>'s output) says about itself: header, counts and summary.</summary>
/// <param name="ByVerdict">Decisions by verdict, as counted in the file (and checked against its summary), in the summary's order.</param>
/// <param name="ByAction">Executed decisions by action, as the summary states them.</param>
public sealed record PlanReportSummary(
    int Version, string? CreatedAt, string? RulesCommit, long RuleCount, long Decisions, IReadOnlyList<KeyValuePair<string, long>> ByVerdict,
    IReadOnlyList<KeyValuePair<string, long>> ByAction, long FindingsTotal, long FindingsMatched);

/// <summary>One decision of a page, as the file holds it (its index in the plan, from 0).</summary>
public sealed record PlanReportDecision(long Index, JsonElement Decision);

/// <summary>A plan's summary and one page of its decisions.</summary>
public sealed record PlanReportPage(PlanReportSummary Summary, long Offset, IReadOnlyList<PlanReportDecision> Decisions);

/// <summary>Why a file is not a readable plan: truncated, not a plan, inconsistent or hostile. The message is for a person (escape it before printing).</summary>
public sealed class PlanReportException(string message) : Exception(message);

/// <summary>
/// Reads a plan file as a stream with <see cref="Utf8JsonReader"/>, never the whole document at once: a plan can hold a
/// million decisions, and <see cref="PlanJsonWriter"/> writes the summary after them. One pass checks the file is one
/// complete plan (a truncated or growing file fails), counts the decisions by verdict and compares them with the
/// summary, and keeps only the requested page of decisions. Bounded: one value longer than
/// <see cref="MaxTokenBytes"/>, nesting deeper than <see cref="MaxDepth"/> or a count that is not a whole number make
/// the file unreadable (<see cref="PlanReportException"/>); nothing else escapes as an exception but I/O errors.
/// </summary>
public static class PlanReportReader
{
    public const int MaxDepth = 64;

    /// <summary>The longest single value (a string, a number) read; a plan's values are short.</summary>
    public const int MaxTokenBytes = 1 << 20;

    /// <summary>A decision larger than this is listed but not kept for display.</summary>
    public const int MaxDecisionBytes = 1 << 18;

    /// <summary>Header strings (created_at, the commit) are cut to this many characters.</summary>
    private const int MaxHeaderChars = 200;

    public static PlanReportSummary ReadSummary(Stream stream) => Read(stream, 0, 0).Summary;

    /// <summary>The summary and the decisions with index <paramref name="offset"/> to <paramref name="offset"/> + <paramref name="take"/> - 1.</summary>
    public static PlanReportPage Read(Stream stream, long offset, int take)
    {
        ArgumentNullException.ThrowIfNull(stream);
        ArgumentOutOfRangeException.ThrowIfNegative(offset);
        ArgumentOutOfRangeException.ThrowIfNegative(take);
        using var scan = new Scan(offset, take);
        try
        {
            scan.Run(stream);
        }
        catch (JsonException e)
        {
            throw new PlanReportException(e.LineNumber is { } line ? $"not valid JSON at line {line + 1}: {Trim(e.Message)}" : $"not valid JSON: {Trim(e.Message)}");
        }
        catch (Exception e) when (e is InvalidOperationException or ArgumentException or FormatException)
        {
            throw new PlanReportException($"unreadable text at byte {scan.Position.ToString(CultureInfo.InvariantCulture)}: {Trim(e.Message)}");
        }

        return new PlanReportPage(scan.Summary(), offset, scan.Page);
    }

    /// <summary>The reader's message without its own position suffix noise, kept short.</summary>
    private static string Trim(string message) => message.Length > 300 ? message[..300] + "…" : message;

    private sealed class Scan(long offset, int take) : IDisposable
    {
        private readonly List<PlanReportDecision> _page = [];
        private readonly List<KeyValuePair<string, long>> _counted = [];
        private readonly List<KeyValuePair<string, long>> _summaryByVerdict = [];
        private readonly List<KeyValuePair<string, long>> _byAction = [];
        private readonly string?[] _path = new string?[4];
        private int? _version;
        private string? _createdAt;
        private string? _commit;
        private long _ruleCount;
        private long? _summaryDecisions;
        private long _findingsTotal;
        private long _findingsMatched;
        private bool _sawDecisions;
        private bool _sawSummary;
        private bool _complete;
        private long _decisions;
        private long _consumedBefore;
        private long _tokens;

        // The decision being kept for the page, written again token by token (the reader's buffer moves on).
        private ArrayBufferWriter<byte>? _capture;
        private Utf8JsonWriter? _writer;
        private bool _oversized;
        private string? _verdict;

        public List<PlanReportDecision> Page => _page;

        public long Position { get; private set; }

        public void Run(Stream stream)
        {
            // The reader is never told the block is final: at the end of the file the plan must be complete (its root
            // object closed), whatever the reader would make of a cut-off number or an open array.
            var buffer = ArrayPool<byte>.Shared.Rent(1 << 16);
            try
            {
                var state = new JsonReaderState(new JsonReaderOptions { MaxDepth = MaxDepth });
                var length = 0;
                var end = false;
                while (true)
                {
                    if (!end && length < buffer.Length)
                    {
                        var read = stream.Read(buffer, length, buffer.Length - length);
                        if (read == 0) end = true;
                        length += read;
                    }

                    var reader = new Utf8JsonReader(buffer.AsSpan(0, length), isFinalBlock: false, state);
                    while (reader.Read())
                    {
                        Position = _consumedBefore + reader.TokenStartIndex;
                        _tokens++;
                        Token(ref reader);
                    }

                    var consumed = (int)reader.BytesConsumed;
                    state = reader.CurrentState;
                    buffer.AsSpan(consumed, length - consumed).CopyTo(buffer);
                    length -= consumed;
                    _consumedBefore += consumed;
                    if (end)
                    {
                        if (_tokens == 0) throw new PlanReportException("not a plan: no JSON object in the file");
                        if (!_complete) throw new PlanReportException($"truncated: the file ends at byte {N(_consumedBefore + length)} inside the plan (still being written, or cut short)");
                        if (buffer.AsSpan(0, length).TrimStart(" \t\r\n"u8).Length > 0) throw new PlanReportException($"something follows the plan at byte {N(_consumedBefore)}");
                        return;
                    }

                    if (consumed == 0 && length == buffer.Length)
                    {
                        // One token does not fit: grow up to the bound, or refuse the file.
                        if (length >= MaxTokenBytes) throw new PlanReportException($"a value longer than {N(MaxTokenBytes)} bytes at byte {N(_consumedBefore)}");
                        var bigger = ArrayPool<byte>.Shared.Rent(buffer.Length * 2);
                        buffer.AsSpan(0, length).CopyTo(bigger);
                        ArrayPool<byte>.Shared.Return(buffer);
                        buffer = bigger;
                    }
                }
            }
            finally
            {
                ArrayPool<byte>.Shared.Return(buffer);
            }
        }

        public void Dispose() => _writer?.Dispose();

        private void Token(ref Utf8JsonReader reader)
        {
            var depth = reader.CurrentDepth;
            var type = reader.TokenType;
            if (depth == 0)
            {
                if (_complete) throw new PlanReportException("more than one JSON document in the file");
                if (type == JsonTokenType.StartObject) return;
                if (type == JsonTokenType.EndObject)
                {
                    _complete = true;
                    return;
                }

                throw new PlanReportException($"not a plan: the document is {Kind(type)}, not an object");
            }

            if (type == JsonTokenType.PropertyName)
            {
                if (depth < _path.Length) _path[depth] = reader.GetString();
                if (depth < _path.Length) Array.Clear(_path, depth + 1, _path.Length - depth - 1);
                if (_writer is not null) _writer.WritePropertyName(_path.Length > depth ? _path[depth]! : reader.GetString()!);
                return;
            }

            if (_path[1] == "decisions" && depth >= 2)
            {
                Decision(ref reader, depth, type);
                return;
            }

            if (type is JsonTokenType.StartObject or JsonTokenType.StartArray or JsonTokenType.EndObject or JsonTokenType.EndArray)
            {
                if (depth == 1 && type == JsonTokenType.StartArray && _path[1] == "decisions") _sawDecisions = true;
                if (depth == 1 && type == JsonTokenType.StartObject && _path[1] == "summary") _sawSummary = true;
                return;
            }

            switch (depth, _path[1], depth >= 2 ? _path[2] : null, depth >= 3 ? _path[3] : null)
            {
                case (1, "plan_version", _, _):
                    var version = Count(ref reader, "plan_version");
                    if (version != PlanJsonWriter.FormatVersion) throw new PlanReportException($"plan_version is {N(version)}; this engine reads version {N(PlanJsonWriter.FormatVersion)}");
                    _version = (int)version;
                    break;
                case (1, "created_at", _, _):
                    _createdAt = Text(ref reader, "created_at");
                    break;
                case (2, "rules", "count", _):
                    _ruleCount = Count(ref reader, "rules.count");
                    break;
                case (2, "rules", "git_commit", _):
                    _commit = Text(ref reader, "rules.git_commit");
                    break;
                case (2, "findings", "total", _):
                    _findingsTotal = Count(ref reader, "findings.total");
                    break;
                case (2, "findings", "matched", _):
                    _findingsMatched = Count(ref reader, "findings.matched");
                    break;
                case (2, "summary", "decisions", _):
                    _summaryDecisions = Count(ref reader, "summary.decisions");
                    break;
                case (3, "summary", "by_verdict", { } verdict):
                    _summaryByVerdict.Add(new(verdict, Count(ref reader, "summary.by_verdict." + verdict)));
                    break;
                case (3, "summary", "by_action", { } action):
                    _byAction.Add(new(action, Count(ref reader, "summary.by_action." + action)));
                    break;
            }
        }

        /// <summary>A token inside the decisions array: counts each decision by verdict and writes again the ones of the page.</summary>
        private void Decision(ref Utf8JsonReader reader, int depth, JsonTokenType type)
        {
            if (depth == 2)
            {
                if (type == JsonTokenType.StartObject)
                {
                    _verdict = null;
                    if (_decisions >= offset && _decisions - offset < take)
                    {
                        _capture = new ArrayBufferWriter<byte>();
                        _writer = new Utf8JsonWriter(_capture, new JsonWriterOptions { SkipValidation = true, MaxDepth = MaxDepth + 1 });
                        _oversized = false;
                    }
                }
                else if (type == JsonTokenType.EndObject)
                {
                    Tally(_verdict ?? "(none)");
                    if (_writer is not null)
                    {
                        if (!_oversized) _writer.WriteEndObject();
                        Keep();
                    }

                    _decisions++;
                    return;
                }
                else
                {
                    throw new PlanReportException($"decision {N(_decisions)} is {Kind(type)}, not an object");
                }
            }

            if (depth == 3 && type == JsonTokenType.String && _path[3] == "verdict") _verdict = Text(ref reader, "verdict");
            if (_writer is null || _oversized) return;
            switch (type)
            {
                case JsonTokenType.StartObject: _writer.WriteStartObject(); break;
                case JsonTokenType.EndObject: _writer.WriteEndObject(); break;
                case JsonTokenType.StartArray: _writer.WriteStartArray(); break;
                case JsonTokenType.EndArray: _writer.WriteEndArray(); break;
                case JsonTokenType.String:
                    if (reader.ValueIsEscaped) _writer.WriteStringValue(reader.GetString());
                    else _writer.WriteStringValue(reader.ValueSpan);
                    break;
                case JsonTokenType.Number: _writer.WriteRawValue(reader.ValueSpan, skipInputValidation: true); break;
                case JsonTokenType.True: _writer.WriteBooleanValue(true); break;
                case JsonTokenType.False: _writer.WriteBooleanValue(false); break;
                case JsonTokenType.Null: _writer.WriteNullValue(); break;
            }

            if (_writer.BytesPending + _capture!.WrittenCount > MaxDecisionBytes) _oversized = true;
        }

        private void Keep()
        {
            _writer!.Flush();
            JsonElement element;
            if (_oversized)
            {
                element = JsonSerializer.SerializeToElement(new Dictionary<string, string>
                {
                    ["not_shown"] = $"decision {N(_decisions)} is larger than {N(MaxDecisionBytes)} bytes",
                    ["verdict"] = _verdict ?? "",
                });
            }
            else
            {
                using var document = JsonDocument.Parse(_capture!.WrittenMemory, new JsonDocumentOptions { MaxDepth = MaxDepth + 1 });
                element = document.RootElement.Clone();
            }

            _page.Add(new PlanReportDecision(_decisions, element));
            _writer.Dispose();
            _writer = null;
            _capture = null;
        }

        private void Tally(string verdict)
        {
            for (var i = 0; i < _counted.Count; i++)
            {
                if (_counted[i].Key == verdict)
                {
                    _counted[i] = new(verdict, _counted[i].Value + 1);
                    return;
                }
            }

            if (_counted.Count >= 64) throw new PlanReportException("more than 64 different verdicts: not a plan");
            _counted.Add(new(verdict, 1));
        }

        public PlanReportSummary Summary()
        {
            if (_version is null) throw new PlanReportException("not a plan: no plan_version");
            if (!_sawDecisions) throw new PlanReportException("not a plan: no decisions array");
            if (!_sawSummary || _summaryDecisions is not { } stated) throw new PlanReportException("not a plan: no summary (the writer puts it last; was it cut short?)");
            if (stated != _decisions) throw new PlanReportException($"the summary says {N(stated)} decisions; the file holds {N(_decisions)}");
            foreach (var (verdict, count) in _counted)
            {
                var said = _summaryByVerdict.FirstOrDefault(p => p.Key == verdict).Value;
                if (said != count) throw new PlanReportException($"the summary says {N(said)} decisions with verdict {verdict}; the file holds {N(count)}");
            }

            foreach (var (verdict, count) in _summaryByVerdict)
            {
                if (count != 0 && !_counted.Any(p => p.Key == verdict)) throw new PlanReportException($"the summary says {N(count)} decisions with verdict {verdict}; the file holds none");
            }

            // The summary's order (the writer's: every verdict, zeros too), then any verdict only the decisions name.
            var byVerdict = _summaryByVerdict.Select(p => p.Key).Concat(_counted.Select(p => p.Key)).Distinct(StringComparer.Ordinal)
                .Select(v => new KeyValuePair<string, long>(v, _counted.FirstOrDefault(p => p.Key == v).Value)).ToList();
            return new PlanReportSummary(_version.Value, _createdAt, _commit, _ruleCount, _decisions, byVerdict, _byAction, _findingsTotal, _findingsMatched);
        }

        private static long Count(ref Utf8JsonReader reader, string field)
        {
            if (reader.TokenType != JsonTokenType.Number) throw new PlanReportException($"{field} is {Kind(reader.TokenType)}, not a count");
            if (!reader.TryGetInt64(out var value) || value < 0)
            {
                var raw = System.Text.Encoding.UTF8.GetString(reader.ValueSpan[..Math.Min(reader.ValueSpan.Length, 40)]);
                throw new PlanReportException($"{field} is {raw}, not a count");
            }

            return value;
        }

        private static string? Text(ref Utf8JsonReader reader, string field)
        {
            if (reader.TokenType == JsonTokenType.Null) return null;
            if (reader.TokenType != JsonTokenType.String) throw new PlanReportException($"{field} is {Kind(reader.TokenType)}, not text");
            var text = reader.GetString()!;
            return text.Length > MaxHeaderChars ? text[..MaxHeaderChars] + "…" : text;
        }

        private static string Kind(JsonTokenType type) => type switch
        {
            JsonTokenType.StartObject => "an object",
            JsonTokenType.StartArray => "an array",
            JsonTokenType.String => "a string",
            JsonTokenType.Number => "a number",
            JsonTokenType.True or JsonTokenType.False => "a boolean",
            JsonTokenType.Null => "null",
            _ => "something else",
        };
    }

    private static string N(long value) => value.ToString(CultureInfo.InvariantCulture);
}
