using System.Buffers;
using System.Collections.Immutable;
using System.Globalization;
using System.Text;
using System.Text.Json;
using System.Text.RegularExpressions;
using ResponseEngine.Diagnostics;

namespace ResponseEngine.Findings;

/// <summary>Findings read from files, a diagnostic for every record that was rejected, and the rejected records themselves (for a quarantine).</summary>
public sealed record FindingLoad(ImmutableArray<Finding> Findings, ImmutableArray<Diagnostic> Diagnostics)
{
    public bool HasErrors => Diagnostics.Any(d => d.IsError);

    /// <summary>Each record that could not be used: where it is, its text (at most <see cref="FindingReader.MaxRecordText"/> characters) and why.</summary>
    public ImmutableArray<FindingRejection> Rejected { get; init; } = [];
}

/// <summary>A record a reader could not use, kept so that a service can quarantine it instead of losing it.</summary>
public sealed record FindingRejection(SourceLocation Location, string Record, string Reason);

/// <summary>
/// Reads canonical findings from JSON (one object, an array, or several objects), NDJSON, or a folder of such files.
/// Strict and bounded: invalid UTF-8, lone surrogate escapes, wrong JSON types and files over
/// <see cref="MaxFileBytes"/> are diagnostics naming the file, line and column of the field, never exceptions. A bad
/// record is reported and skipped; the good records still load.
/// </summary>
public static partial class FindingReader
{
    /// <summary>The largest findings file read (larger ones are a diagnostic): a reader of untrusted files is bounded.</summary>
    public const long MaxFileBytes = 256L * 1024 * 1024;

    /// <summary>How much of a rejected record's text is kept with its rejection.</summary>
    public const int MaxRecordText = 64 * 1024;

    private static readonly string[] Extensions = [".json", ".ndjson", ".jsonl"];

    private static readonly string[] KnownFields = ["id", "source", "kind", "type", "severity", "observed_at", "subject", "title", "attributes"];

    private static readonly string[] SubjectFields = ["provider", "id", "name"];

    public static FindingLoad ReadPaths(IEnumerable<string> paths)
    {
        var load = new Load();
        foreach (var path in paths)
        {
            foreach (var file in ExpandPath(path, load.Bag))
            {
                foreach (var _ in ReadFile(file, load))
                {
                    // Everything read is collected in the load.
                }
            }
        }

        return load.ToResult();
    }

    /// <summary>
    /// The findings of <paramref name="paths"/> read lazily, as a stream: NDJSON files a line at a time through a pooled
    /// buffer (so they have no size limit, only each line's), JSON files whole. Each diagnostic goes to
    /// <paramref name="report"/> as soon as its record is read; rejected records are not kept. The same findings and
    /// diagnostics as <see cref="ReadPaths"/>, in the same order.
    /// </summary>
    public static IEnumerable<Finding> Stream(IEnumerable<string> paths, Action<Diagnostic> report)
    {
        ArgumentNullException.ThrowIfNull(paths);
        ArgumentNullException.ThrowIfNull(report);
        var load = new Load { KeepRejected = false };
        var reported = 0;
        foreach (var path in paths)
        {
            var files = ExpandPath(path, load.Bag);
            for (; reported < load.Bag.Items.Count; reported++) report(load.Bag.Items[reported]);
            foreach (var file in files)
            {
                foreach (var _ in ReadFile(file, load))
                {
                    for (; reported < load.Bag.Items.Count; reported++) report(load.Bag.Items[reported]);
                    foreach (var finding in load.Findings) yield return finding;
                    load.Findings.Clear();
                }
            }
        }
    }

    public static FindingLoad ReadText(string text, string fileName)
    {
        ArgumentNullException.ThrowIfNull(text);
        return ReadBytes(Encoding.UTF8.GetBytes(text), fileName);
    }

    /// <summary>Reads one file's bytes as its name says (NDJSON for .ndjson/.jsonl, else JSON); the bytes must be UTF-8.</summary>
    public static FindingLoad ReadBytes(byte[] bytes, string fileName) => ReadBytes(bytes, fileName, fast: true);

    /// <summary>As <see cref="ReadBytes(byte[], string)"/>; <paramref name="fast"/> false reads every record through the checked path only (the reader before #23, kept as the oracle of tests and benchmarks).</summary>
    internal static FindingLoad ReadBytes(byte[] bytes, string fileName, bool fast)
    {
        ArgumentNullException.ThrowIfNull(bytes);
        var load = new Load { Fast = fast };
        ReadContent(bytes, fileName, IsLineDelimited(fileName), load);
        return load.ToResult();
    }

    private static List<string> ExpandPath(string path, DiagnosticBag bag)
    {
        try
        {
            if (Directory.Exists(path))
            {
                return Directory.EnumerateFiles(path, "*", SearchOption.AllDirectories)
                    .Where(f => Extensions.Contains(Path.GetExtension(f), StringComparer.OrdinalIgnoreCase))
                    .Order(StringComparer.Ordinal)
                    .ToList();
            }
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            bag.Error(DiagnosticCodes.FileUnreadable, SourceLocation.FileOnly(path), $"cannot list the findings folder: {e.Message}");
            return [];
        }

        if (File.Exists(path)) return [path];
        bag.Error(DiagnosticCodes.FileUnreadable, SourceLocation.FileOnly(path), "findings path does not exist",
            "pass a .json, .ndjson or .jsonl file, or a folder of them");
        return [];
    }

    private static bool IsLineDelimited(string file)
    {
        var extension = Path.GetExtension(file);
        return extension.Equals(".ndjson", StringComparison.OrdinalIgnoreCase) || extension.Equals(".jsonl", StringComparison.OrdinalIgnoreCase);
    }

    /// <summary>Reads one file into <paramref name="load"/>, yielding whenever findings or diagnostics were added (after each NDJSON line).</summary>
    private static IEnumerable<bool> ReadFile(string file, Load load)
    {
        if (IsLineDelimited(file)) return ReadLines(file, load);
        ReadWholeFile(file, load);
        return [true];
    }

    private static void ReadWholeFile(string file, Load load)
    {
        byte[] bytes;
        try
        {
            var length = new FileInfo(file).Length;
            if (length > MaxFileBytes)
            {
                load.Bag.Error(DiagnosticCodes.FileUnreadable, SourceLocation.FileOnly(file),
                    $"the findings file is {length / (1024 * 1024)} MiB, over the {MaxFileBytes / (1024 * 1024)} MiB limit", "split it into several files, or write it as NDJSON (.ndjson), which has no size limit");
                return;
            }

            bytes = File.ReadAllBytes(file);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            load.Bag.Error(DiagnosticCodes.FileUnreadable, SourceLocation.FileOnly(file), $"cannot read findings file: {e.Message}");
            return;
        }

        ReadJson(bytes, file, new LineIndex(bytes), load);
    }

    private static void ReadContent(byte[] bytes, string file, bool lineDelimited, Load load)
    {
        if (lineDelimited)
        {
            var start = 0;
            var lineNumber = 1;
            while (start < bytes.Length)
            {
                var end = Array.IndexOf(bytes, (byte)'\n', start);
                if (end < 0) end = bytes.Length;
                ReadLine(bytes.AsMemory(start, end - start), file, lineNumber, load);
                start = end + 1;
                lineNumber++;
            }
        }
        else
        {
            ReadJson(bytes, file, new LineIndex(bytes), load);
        }
    }

    /// <summary>
    /// An NDJSON file a line at a time through a pooled buffer that grows only to the longest line (at most
    /// <see cref="MaxFileBytes"/>; a longer line is a diagnostic and skipped), yielding after each line.
    /// </summary>
    private static IEnumerable<bool> ReadLines(string file, Load load)
    {
        FileStream stream;
        try
        {
            stream = new FileStream(file, FileMode.Open, FileAccess.Read, FileShare.Read, bufferSize: 1, FileOptions.SequentialScan);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            load.Bag.Error(DiagnosticCodes.FileUnreadable, SourceLocation.FileOnly(file), $"cannot read findings file: {e.Message}");
            yield break;
        }

        var buffer = ArrayPool<byte>.Shared.Rent(1 << 16);
        try
        {
            var filled = 0;
            var lineNumber = 1;
            var skipping = false;
            var end = false;
            while (true)
            {
                var start = 0;
                while (true)
                {
                    var newline = buffer.AsSpan(start, filled - start).IndexOf((byte)'\n');
                    if (newline < 0) break;
                    if (!skipping) ReadLine(buffer.AsMemory(start, newline), file, lineNumber, load);
                    skipping = false;
                    start += newline + 1;
                    lineNumber++;
                    yield return true;
                }

                Array.Copy(buffer, start, buffer, 0, filled - start);
                filled -= start;
                if (end)
                {
                    if (filled > 0 && !skipping)
                    {
                        ReadLine(buffer.AsMemory(0, filled), file, lineNumber, load);
                        yield return true;
                    }

                    break;
                }

                if (filled == buffer.Length)
                {
                    if (buffer.Length >= MaxFileBytes)
                    {
                        if (!skipping)
                        {
                            load.Bag.Error(DiagnosticCodes.FileUnreadable, new SourceLocation(file, lineNumber, 1),
                                $"line {lineNumber} is over {MaxFileBytes / (1024 * 1024)} MiB long; it was skipped", "write one finding per line");
                            yield return true;
                        }

                        skipping = true;
                        filled = 0;
                    }
                    else
                    {
                        var larger = ArrayPool<byte>.Shared.Rent((int)Math.Min(MaxFileBytes, 2L * buffer.Length));
                        Array.Copy(buffer, larger, filled);
                        ArrayPool<byte>.Shared.Return(buffer);
                        buffer = larger;
                    }
                }

                var read = Read(stream, buffer.AsSpan(filled), file, load);
                if (read < 0)
                {
                    yield return true;
                    break;
                }

                if (read == 0) end = true;
                filled += read;
            }
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
            stream.Dispose();
        }
    }

    /// <summary>Bytes read into <paramref name="into"/>; 0 at the end; -1 (with a diagnostic) when the file cannot be read further.</summary>
    private static int Read(FileStream stream, Span<byte> into, string file, Load load)
    {
        try
        {
            return stream.Read(into);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            load.Bag.Error(DiagnosticCodes.FileUnreadable, SourceLocation.FileOnly(file), $"cannot read findings file: {e.Message}");
            return -1;
        }
    }

    /// <summary>One NDJSON line (without its newline): blank lines are skipped; anything else is one finding or a diagnostic.</summary>
    private static void ReadLine(ReadOnlyMemory<byte> raw, string file, int lineNumber, Load load)
    {
        var line = raw.Span.Trim("\r\t "u8);
        if (line.IsEmpty) return;
        var lead = raw.Span.Length - raw.Span.TrimStart("\r\t "u8).Length;
        var record = raw.Slice(lead, line.Length);
        var at = new SourceLocation(file, lineNumber, lead + 1);
        if (load.Fast && TryReadFast(record.Span, at, load)) return;
        try
        {
            using var document = JsonDocument.Parse(record);
            Accept(document.RootElement, record, at, file, load);
        }
        catch (JsonException e)
        {
            var where = new SourceLocation(file, lineNumber, (int)(e.BytePositionInLine ?? 0) + lead + 1);
            load.Reject(record, where, DiagnosticCodes.FindingMalformed, $"not valid JSON: {FirstSentence(e.Message)}", "each line of an NDJSON file holds one finding object");
        }
    }

    /// <summary>One NDJSON record through the fast path; false when the checked path must read it (nothing was added).</summary>
    private static bool TryReadFast(ReadOnlySpan<byte> record, SourceLocation at, Load load)
    {
        if (ReadFastLine(record, at, load.Strings) is not { } finding) return false;
        Admit(finding, at, load);
        return true;
    }

    /// <summary>One NDJSON record as a finding through the fast path alone; null when the checked path must read it.</summary>
    internal static Finding? ReadFastLine(ReadOnlySpan<byte> record, SourceLocation origin, Utf8StringCache strings)
    {
        // The options JsonDocument.Parse reads a line with: no comments, no trailing commas, depth 64.
        var reader = new Utf8JsonReader(record);
        try
        {
            if (!reader.Read()) return null;
            var finding = ReadFast(ref reader, record, origin, strings);
            return finding is null || reader.Read() ? null : finding;
        }
        catch (Exception e) when (e is JsonException or InvalidOperationException)
        {
            return null;
        }
    }

    private static void ReadJson(byte[] bytes, string file, LineIndex lines, Load load)
    {
        var reader = new Utf8JsonReader(bytes, new JsonReaderOptions { AllowMultipleValues = true, CommentHandling = JsonCommentHandling.Skip });
        try
        {
            while (reader.Read())
            {
                if (reader.TokenType == JsonTokenType.StartArray)
                {
                    while (reader.Read() && reader.TokenType != JsonTokenType.EndArray)
                    {
                        ReadOne(ref reader, bytes, file, lines, load);
                    }
                }
                else
                {
                    ReadOne(ref reader, bytes, file, lines, load);
                }
            }
        }
        catch (JsonException e)
        {
            var line = (int)(e.LineNumber ?? 0) + 1;
            var column = (int)(e.BytePositionInLine ?? 0) + 1;
            var offset = (int)Math.Min(reader.BytesConsumed, bytes.Length);
            load.Reject(bytes.AsMemory(offset), new SourceLocation(file, line, column), DiagnosticCodes.FindingMalformed,
                $"not valid JSON: {FirstSentence(e.Message)}", "records after this point were not read; fix the JSON syntax");
        }
    }

    private static void ReadOne(ref Utf8JsonReader reader, byte[] bytes, string file, LineIndex lines, Load load)
    {
        var start = (int)reader.TokenStartIndex;
        var location = lines.Locate(file, start);
        if (load.Fast)
        {
            var probe = reader;
            Finding? finding = null;
            try
            {
                finding = ReadFast(ref probe, bytes, location, load.Strings);
            }
            catch (Exception e) when (e is JsonException or InvalidOperationException)
            {
                // The checked path reads it again from where it started, and reports what is wrong with it.
            }

            if (finding is not null)
            {
                reader = probe;
                Admit(finding, location, load);
                return;
            }
        }

        using var document = JsonDocument.ParseValue(ref reader);
        Accept(document.RootElement, bytes.AsMemory(start, (int)reader.BytesConsumed - start), location, file, load);
    }

    private static void Accept(JsonElement element, ReadOnlyMemory<byte> record, SourceLocation location, string file, Load load)
    {
        var bag = new DiagnosticBag();
        JsonLocator? locator = null;
        SourceLocation Locate(string pointer)
        {
            if (pointer.Length == 0) return location;
            locator ??= new JsonLocator(file, record.ToArray());
            var inRecord = locator.Locate(LocatorPath(pointer));
            return inRecord.Line <= 1
                ? new SourceLocation(file, location.Line, location.Column + Math.Max(inRecord.Column, 1) - 1)
                : new SourceLocation(file, location.Line + inRecord.Line - 1, inRecord.Column);
        }

        var finding = Parse(element, Locate, bag);
        load.Bag.AddRange(bag.Items);
        if (finding is null)
        {
            load.Keep(record, location, bag);
            return;
        }

        Admit(finding with { Location = location }, location, load);
    }

    /// <summary>A finding that passed every check: kept, unless the same source already sent the same id in this read.</summary>
    private static void Admit(Finding finding, SourceLocation location, Load load)
    {
        if (!load.Seen.Add((finding.Source, finding.Id)))
        {
            load.Bag.Warning(DiagnosticCodes.FindingDuplicate, location,
                $"finding '{finding.Id}' from source '{finding.Source}' appears more than once; only the first is used");
            return;
        }

        load.Findings.Add(finding);
    }

    /// <summary>A JSON pointer as <see cref="JsonLocator"/> spells paths (segments joined by '/', no leading one).</summary>
    private static string LocatorPath(string pointer) =>
        string.Join('/', pointer.Split('/').Skip(1).Select(s => s.Replace("~1", "/", StringComparison.Ordinal).Replace("~0", "~", StringComparison.Ordinal)));

    /// <summary>Validates one record; returns null (with diagnostics) when it cannot be used. Every diagnostic is at the record.</summary>
    public static Finding? Parse(JsonElement element, SourceLocation location, DiagnosticBag bag) => Parse(element, _ => location, bag);

    /// <summary>
    /// Validates one record; returns null (with diagnostics) when it cannot be used. <paramref name="locate"/> turns the
    /// JSON pointer of the offending field (<c>/subject/provider</c>; empty for the record) into the diagnostic's location.
    /// </summary>
    public static Finding? Parse(JsonElement element, Func<string, SourceLocation> locate, DiagnosticBag bag)
    {
        ArgumentNullException.ThrowIfNull(locate);
        ArgumentNullException.ThrowIfNull(bag);
        if (element.ValueKind != JsonValueKind.Object)
        {
            bag.Error(DiagnosticCodes.FindingMalformed, locate(""), $"a finding must be a JSON object, found {Describe(element.ValueKind)}");
            return null;
        }

        if (JsonText.FirstUnreadable(element) is { } unreadable)
        {
            bag.Error(DiagnosticCodes.FindingNotText, locate(unreadable), $"field '{unreadable}' is not valid Unicode text (a lone surrogate escape such as \\ud800, or bytes that are not UTF-8)",
                "write the file as UTF-8 and escape only whole surrogate pairs");
            return null;
        }

        return ParseObject(element, locate, bag);
    }

    private static Finding? ParseObject(JsonElement element, Func<string, SourceLocation> locate, DiagnosticBag bag)
    {
        var errors = bag.Items.Count;
        foreach (var property in element.EnumerateObject())
        {
            if (!KnownFields.Contains(property.Name))
            {
                bag.Error(DiagnosticCodes.FindingInvalidValue, locate(JsonText.Segment(property.Name)), $"unknown field '{property.Name}'",
                    Suggest.DidYouMean(property.Name, KnownFields) + " (free facts belong under 'attributes')");
            }
        }

        var id = RequiredString(element, "id", locate, bag);
        var source = RequiredString(element, "source", locate, bag);
        var type = RequiredString(element, "type", locate, bag);
        if (type is not null && !SnakeCase().IsMatch(type))
        {
            bag.Error(DiagnosticCodes.FindingInvalidValue, locate("/type"), $"field 'type' is '{type}', which is not snake_case", "write it like 'weak_password'");
        }

        var severityText = RequiredString(element, "severity", locate, bag);
        var severity = Severity.Low;
        if (severityText is not null && !Severities.TryParse(severityText, out severity))
        {
            bag.Error(DiagnosticCodes.FindingInvalidValue, locate("/severity"), $"field 'severity' is '{severityText}'", Suggest.DidYouMean(severityText, [.. Severities.Names]));
        }

        var kind = FindingKind.Detection;
        if (element.TryGetProperty("kind", out var kindElement))
        {
            var kindText = kindElement.ValueKind == JsonValueKind.String ? kindElement.GetString() : null;
            if (kindText == "posture") kind = FindingKind.Posture;
            else if (kindText != "detection")
                bag.Error(DiagnosticCodes.FindingInvalidValue, locate("/kind"), $"field 'kind' is {Quote(kindElement)}", "use 'detection' or 'posture'");
        }

        var observedText = RequiredString(element, "observed_at", locate, bag);
        var observedAt = default(DateTimeOffset);
        if (observedText is not null && !TryParseTimestamp(observedText, out observedAt))
        {
            bag.Error(DiagnosticCodes.FindingInvalidValue, locate("/observed_at"), $"field 'observed_at' is '{observedText}', not an RFC 3339 timestamp", "write it like 2026-11-20T08:15:00Z");
        }

        var subject = ParseSubject(element, locate, bag);
        var title = type ?? "";
        if (element.TryGetProperty("title", out var titleElement))
        {
            if (titleElement.ValueKind == JsonValueKind.String) title = titleElement.GetString()!;
            else if (titleElement.ValueKind != JsonValueKind.Null)
                bag.Error(DiagnosticCodes.FindingInvalidValue, locate("/title"), $"field 'title' must be a string, found {Describe(titleElement.ValueKind)}");
        }

        var attributes = Finding.NoAttributes;
        if (element.TryGetProperty("attributes", out var attributesElement) && attributesElement.ValueKind != JsonValueKind.Null)
        {
            if (attributesElement.ValueKind != JsonValueKind.Object)
            {
                bag.Error(DiagnosticCodes.FindingInvalidValue, locate("/attributes"), $"field 'attributes' must be an object, found {Describe(attributesElement.ValueKind)}");
            }
            else
            {
                attributes = FindingAttributes.From(attributesElement.EnumerateObject().Select(p => KeyValuePair.Create(p.Name, p.Value.Clone())));
            }
        }

        if (bag.Items.Skip(errors).Any(d => d.IsError) || id is null || source is null || type is null || subject is null)
        {
            return null;
        }

        return new Finding(id, source, kind, type, severity, observedAt, subject, title, attributes);
    }

    private static Subject? ParseSubject(JsonElement element, Func<string, SourceLocation> locate, DiagnosticBag bag)
    {
        if (!element.TryGetProperty("subject", out var subject))
        {
            bag.Error(DiagnosticCodes.FindingMissingField, locate(""), "missing field 'subject'", "add \"subject\": { \"provider\": \"ad\", \"name\": \"alice\" }");
            return null;
        }

        if (subject.ValueKind != JsonValueKind.Object)
        {
            bag.Error(DiagnosticCodes.FindingInvalidValue, locate("/subject"), $"field 'subject' must be an object, found {Describe(subject.ValueKind)}");
            return null;
        }

        foreach (var property in subject.EnumerateObject())
        {
            if (!SubjectFields.Contains(property.Name))
                bag.Error(DiagnosticCodes.FindingInvalidValue, locate("/subject" + JsonText.Segment(property.Name)), $"unknown field 'subject.{property.Name}'", Suggest.DidYouMean(property.Name, SubjectFields));
        }

        var providerText = RequiredString(subject, "provider", locate, bag, "subject");
        var provider = Provider.Ad;
        if (providerText is not null && !Providers.TryParse(providerText, out provider))
        {
            bag.Error(DiagnosticCodes.FindingInvalidValue, locate("/subject/provider"), $"field 'subject.provider' is '{providerText}'", Suggest.DidYouMean(providerText, [.. Providers.Names]));
            return null;
        }

        var id = OptionalString(subject, "id", locate, bag, "subject");
        var name = OptionalString(subject, "name", locate, bag, "subject");
        if (id is null && name is null)
        {
            bag.Error(DiagnosticCodes.FindingMissingField, locate("/subject"), "field 'subject' needs an 'id' or a 'name'", "name the account by UPN, sAMAccountName, login or object id");
            return null;
        }

        return providerText is null ? null : new Subject(provider, id, name);
    }

    private static string? RequiredString(JsonElement element, string name, Func<string, SourceLocation> locate, DiagnosticBag bag, string parent = "")
    {
        var label = parent.Length == 0 ? name : $"{parent}.{name}";
        if (!element.TryGetProperty(name, out var value))
        {
            bag.Error(DiagnosticCodes.FindingMissingField, locate(parent.Length == 0 ? "" : "/" + parent), $"missing field '{label}'");
            return null;
        }

        if (value.ValueKind != JsonValueKind.String || string.IsNullOrWhiteSpace(value.GetString()))
        {
            bag.Error(DiagnosticCodes.FindingInvalidValue, locate(Pointer(parent, name)), $"field '{label}' must be a non-empty string, found {Describe(value)}");
            return null;
        }

        return value.GetString();
    }

    private static string? OptionalString(JsonElement element, string name, Func<string, SourceLocation> locate, DiagnosticBag bag, string parent)
    {
        if (!element.TryGetProperty(name, out var value) || value.ValueKind == JsonValueKind.Null) return null;
        if (value.ValueKind == JsonValueKind.String && !string.IsNullOrWhiteSpace(value.GetString())) return value.GetString();
        bag.Error(DiagnosticCodes.FindingInvalidValue, locate(Pointer(parent, name)), $"field '{parent}.{name}' must be a non-empty string, found {Describe(value)}");
        return null;
    }

    private static string Pointer(string parent, string name) => (parent.Length == 0 ? "" : "/" + parent) + JsonText.Segment(name);

    private static string Describe(JsonElement value) =>
        value.ValueKind == JsonValueKind.String ? "an empty string" : Describe(value.ValueKind);

    private static string Quote(JsonElement value)
    {
        var raw = value.GetRawText();
        return raw.Length > 60 ? raw[..60] + "…" : raw;
    }

    public static bool TryParseTimestamp(string text, out DateTimeOffset value)
    {
        value = default;
        return text.Length >= 20 && (text[10] == 'T' || text[10] == 't')
            && (text.EndsWith('Z') || text.EndsWith('z') || text[^6] is '+' or '-')
            && DateTimeOffset.TryParse(text, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal, out value);
    }

    private static string Describe(JsonValueKind kind) => kind switch
    {
        JsonValueKind.Object => "an object",
        JsonValueKind.Array => "an array",
        JsonValueKind.String => "a string",
        JsonValueKind.Number => "a number",
        JsonValueKind.True or JsonValueKind.False => "a boolean",
        JsonValueKind.Null => "null",
        _ => "nothing",
    };

    private static string FirstSentence(string message)
    {
        var cut = message.IndexOf(" Path:", StringComparison.Ordinal);
        return cut > 0 ? message[..cut] : message;
    }

    [GeneratedRegex("^[a-z][a-z0-9_]*$")]
    private static partial Regex SnakeCase();

    /// <summary>What one read collects: the findings, every diagnostic, the rejected records, and the identities seen (to warn on duplicates).</summary>
    private sealed class Load
    {
        public ImmutableArray<Finding>.Builder Findings { get; } = ImmutableArray.CreateBuilder<Finding>();

        public DiagnosticBag Bag { get; } = new();

        public List<FindingRejection> Rejected { get; } = [];

        public HashSet<(string, string)> Seen { get; } = [];

        public void Reject(ReadOnlyMemory<byte> record, SourceLocation location, string code, string message, string hint)
        {
            var bag = new DiagnosticBag();
            bag.Error(code, location, message, hint);
            Bag.AddRange(bag.Items);
            Keep(record, location, bag);
        }

        /// <summary>Valid records through the fast path (<c>FindingReader.Fast.cs</c>); false: every record through the checked path.</summary>
        public bool Fast { get; init; } = true;

        /// <summary>The strings that repeat from finding to finding, for the fast path.</summary>
        public Utf8StringCache Strings { get; } = new();

        /// <summary>False for a stream: a rejected record's diagnostic is reported, its text is not kept.</summary>
        public bool KeepRejected { get; init; } = true;

        public void Keep(ReadOnlyMemory<byte> record, SourceLocation location, DiagnosticBag bag)
        {
            if (!KeepRejected) return;
            var text = record.Length > MaxRecordText ? record[..MaxRecordText] : record;
            var reason = string.Join("; ", bag.Items.Where(d => d.IsError).Select(d => $"{d.Location}: {d.Code} {(d.Hint is null ? d.Message : $"{d.Message}; {d.Hint}")}"));
            Rejected.Add(new FindingRejection(location, Encoding.UTF8.GetString(text.Span), reason));
        }

        public FindingLoad ToResult() => new(Findings.ToImmutable(), [.. Bag.Items]) { Rejected = [.. Rejected] };
    }

    /// <summary>Maps byte offsets to line and column for diagnostics.</summary>
    internal sealed class LineIndex
    {
        private readonly byte[] _bytes;
        private readonly List<int> _starts = [0];

        public LineIndex(byte[] bytes)
        {
            _bytes = bytes;
            for (var i = 0; i < bytes.Length; i++)
            {
                if (bytes[i] == '\n') _starts.Add(i + 1);
            }
        }

        // The last offset located, its line and column: records come in file order, so the column of the next one on the
        // same line is counted on from there. Counting from the line's start each time made a JSON array written on one
        // line quadratic in its length (#23). Offsets are token starts, ASCII bytes, so counting in pieces is exact.
        private int _lastOffset = -1;
        private int _lastLine;
        private int _lastColumn;

        public SourceLocation Locate(string file, long offset)
        {
            var index = _starts.BinarySearch((int)offset);
            if (index < 0) index = ~index - 1;
            var from = index == _lastLine && _lastOffset >= _starts[index] && _lastOffset <= offset ? _lastOffset : _starts[index];
            var column = Encoding.UTF8.GetCharCount(_bytes, from, (int)offset - from) + (from == _lastOffset ? _lastColumn : 1);
            (_lastOffset, _lastLine, _lastColumn) = ((int)offset, index, column);
            return new SourceLocation(file, index + 1, column);
        }
    }
}
