using System.Collections.Immutable;
using System.Globalization;
using System.Text;
using System.Text.Json;
using System.Text.RegularExpressions;
using ResponseEngine.Diagnostics;

namespace ResponseEngine.Findings;

/// <summary>Findings read from files, and a diagnostic for every record that was rejected.</summary>
public sealed record FindingLoad(ImmutableArray<Finding> Findings, ImmutableArray<Diagnostic> Diagnostics)
{
    public bool HasErrors => Diagnostics.Any(d => d.IsError);
}

/// <summary>
/// Reads canonical findings from JSON (one object, an array, or several objects), NDJSON, or a folder of such files.
/// A bad record is reported with its file and line and skipped; the good records still load.
/// </summary>
public static partial class FindingReader
{
    private static readonly string[] Extensions = [".json", ".ndjson", ".jsonl"];

    private static readonly string[] KnownFields = ["id", "source", "kind", "type", "severity", "observed_at", "subject", "title", "attributes"];

    private static readonly string[] SubjectFields = ["provider", "id", "name"];

    public static FindingLoad ReadPaths(IEnumerable<string> paths)
    {
        var findings = ImmutableArray.CreateBuilder<Finding>();
        var bag = new DiagnosticBag();
        var seen = new HashSet<(string, string)>();
        foreach (var path in paths)
        {
            foreach (var file in ExpandPath(path, bag))
            {
                ReadFile(file, findings, bag, seen);
            }
        }

        return new FindingLoad(findings.ToImmutable(), [.. bag.Items]);
    }

    public static FindingLoad ReadText(string text, string fileName)
    {
        var findings = ImmutableArray.CreateBuilder<Finding>();
        var bag = new DiagnosticBag();
        ReadContent(Encoding.UTF8.GetBytes(text), fileName, IsLineDelimited(fileName), findings, bag, []);
        return new FindingLoad(findings.ToImmutable(), [.. bag.Items]);
    }

    private static List<string> ExpandPath(string path, DiagnosticBag bag)
    {
        if (Directory.Exists(path))
        {
            return Directory.EnumerateFiles(path, "*", SearchOption.AllDirectories)
                .Where(f => Extensions.Contains(Path.GetExtension(f), StringComparer.OrdinalIgnoreCase))
                .Order(StringComparer.Ordinal)
                .ToList();
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

    private static void ReadFile(string file, ImmutableArray<Finding>.Builder findings, DiagnosticBag bag, HashSet<(string, string)> seen)
    {
        byte[] bytes;
        try
        {
            bytes = File.ReadAllBytes(file);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            bag.Error(DiagnosticCodes.FileUnreadable, SourceLocation.FileOnly(file), $"cannot read findings file: {e.Message}");
            return;
        }

        ReadContent(bytes, file, IsLineDelimited(file), findings, bag, seen);
    }

    private static void ReadContent(byte[] bytes, string file, bool lineDelimited, ImmutableArray<Finding>.Builder findings, DiagnosticBag bag, HashSet<(string, string)> seen)
    {
        if (lineDelimited)
        {
            ReadLines(bytes, file, findings, bag, seen);
        }
        else
        {
            ReadJson(bytes, file, new LineIndex(bytes), findings, bag, seen);
        }
    }

    private static void ReadLines(byte[] bytes, string file, ImmutableArray<Finding>.Builder findings, DiagnosticBag bag, HashSet<(string, string)> seen)
    {
        var start = 0;
        var lineNumber = 1;
        while (start < bytes.Length)
        {
            var end = Array.IndexOf(bytes, (byte)'\n', start);
            if (end < 0) end = bytes.Length;
            var line = bytes.AsSpan(start, end - start).Trim("\r\t "u8);
            if (!line.IsEmpty)
            {
                try
                {
                    using var document = JsonDocument.Parse(line.ToArray());
                    Accept(document.RootElement, new SourceLocation(file, lineNumber, 1), findings, bag, seen);
                }
                catch (JsonException e)
                {
                    bag.Error(DiagnosticCodes.FindingMalformed, new SourceLocation(file, lineNumber, (int)(e.BytePositionInLine ?? 0) + 1),
                        $"not valid JSON: {FirstSentence(e.Message)}", "each line of an NDJSON file holds one finding object");
                }
            }

            start = end + 1;
            lineNumber++;
        }
    }

    private static void ReadJson(byte[] bytes, string file, LineIndex lines, ImmutableArray<Finding>.Builder findings, DiagnosticBag bag, HashSet<(string, string)> seen)
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
                        ReadOne(ref reader, file, lines, findings, bag, seen);
                    }
                }
                else
                {
                    ReadOne(ref reader, file, lines, findings, bag, seen);
                }
            }
        }
        catch (JsonException e)
        {
            var line = (int)(e.LineNumber ?? 0) + 1;
            var column = (int)(e.BytePositionInLine ?? 0) + 1;
            bag.Error(DiagnosticCodes.FindingMalformed, new SourceLocation(file, line, column),
                $"not valid JSON: {FirstSentence(e.Message)}", "records after this point were not read; fix the JSON syntax");
        }
    }

    private static void ReadOne(ref Utf8JsonReader reader, string file, LineIndex lines, ImmutableArray<Finding>.Builder findings, DiagnosticBag bag, HashSet<(string, string)> seen)
    {
        var location = lines.Locate(file, reader.TokenStartIndex);
        using var document = JsonDocument.ParseValue(ref reader);
        Accept(document.RootElement, location, findings, bag, seen);
    }

    private static void Accept(JsonElement element, SourceLocation location, ImmutableArray<Finding>.Builder findings, DiagnosticBag bag, HashSet<(string, string)> seen)
    {
        var finding = Parse(element, location, bag);
        if (finding is null) return;
        if (!seen.Add((finding.Source, finding.Id)))
        {
            bag.Warning(DiagnosticCodes.FindingDuplicate, location,
                $"finding '{finding.Id}' from source '{finding.Source}' appears more than once; only the first is used");
            return;
        }

        findings.Add(finding with { Origin = location.ToString() });
    }

    /// <summary>Validates one record; returns null (with diagnostics) when it cannot be used.</summary>
    public static Finding? Parse(JsonElement element, SourceLocation location, DiagnosticBag bag)
    {
        if (element.ValueKind != JsonValueKind.Object)
        {
            bag.Error(DiagnosticCodes.FindingMalformed, location, $"a finding must be a JSON object, found {Describe(element.ValueKind)}");
            return null;
        }

        var errors = bag.Items.Count;
        foreach (var property in element.EnumerateObject())
        {
            if (!KnownFields.Contains(property.Name))
            {
                bag.Error(DiagnosticCodes.FindingInvalidValue, location, $"unknown field '{property.Name}'",
                    Suggest.DidYouMean(property.Name, KnownFields) + " (free facts belong under 'attributes')");
            }
        }

        var id = RequiredString(element, "id", location, bag);
        var source = RequiredString(element, "source", location, bag);
        var type = RequiredString(element, "type", location, bag);
        if (type is not null && !SnakeCase().IsMatch(type))
        {
            bag.Error(DiagnosticCodes.FindingInvalidValue, location, $"field 'type' is '{type}', which is not snake_case", "write it like 'weak_password'");
        }

        var severityText = RequiredString(element, "severity", location, bag);
        var severity = Severity.Low;
        if (severityText is not null && !Severities.TryParse(severityText, out severity))
        {
            bag.Error(DiagnosticCodes.FindingInvalidValue, location, $"field 'severity' is '{severityText}'", Suggest.DidYouMean(severityText, [.. Severities.Names]));
        }

        var kind = FindingKind.Detection;
        if (element.TryGetProperty("kind", out var kindElement))
        {
            var kindText = kindElement.ValueKind == JsonValueKind.String ? kindElement.GetString() : null;
            if (kindText == "posture") kind = FindingKind.Posture;
            else if (kindText != "detection")
                bag.Error(DiagnosticCodes.FindingInvalidValue, location, $"field 'kind' is {kindElement.GetRawText()}", "use 'detection' or 'posture'");
        }

        var observedText = RequiredString(element, "observed_at", location, bag);
        var observedAt = default(DateTimeOffset);
        if (observedText is not null && !TryParseTimestamp(observedText, out observedAt))
        {
            bag.Error(DiagnosticCodes.FindingInvalidValue, location, $"field 'observed_at' is '{observedText}', not an RFC 3339 timestamp", "write it like 2026-11-20T08:15:00Z");
        }

        var subject = ParseSubject(element, location, bag);
        var title = element.TryGetProperty("title", out var titleElement) && titleElement.ValueKind == JsonValueKind.String
            ? titleElement.GetString()!
            : type ?? "";

        var attributes = Finding.NoAttributes;
        if (element.TryGetProperty("attributes", out var attributesElement))
        {
            if (attributesElement.ValueKind != JsonValueKind.Object)
            {
                bag.Error(DiagnosticCodes.FindingInvalidValue, location, $"field 'attributes' must be an object, found {Describe(attributesElement.ValueKind)}");
            }
            else
            {
                var builder = ImmutableDictionary.CreateBuilder<string, JsonElement>(StringComparer.Ordinal);
                foreach (var property in attributesElement.EnumerateObject())
                {
                    builder[property.Name] = property.Value.Clone();
                }

                attributes = builder.ToImmutable();
            }
        }

        if (bag.Items.Skip(errors).Any(d => d.IsError) || id is null || source is null || type is null || subject is null)
        {
            return null;
        }

        return new Finding(id, source, kind, type, severity, observedAt, subject, title, attributes);
    }

    private static Subject? ParseSubject(JsonElement element, SourceLocation location, DiagnosticBag bag)
    {
        if (!element.TryGetProperty("subject", out var subject))
        {
            bag.Error(DiagnosticCodes.FindingMissingField, location, "missing field 'subject'", "add \"subject\": { \"provider\": \"ad\", \"name\": \"alice\" }");
            return null;
        }

        if (subject.ValueKind != JsonValueKind.Object)
        {
            bag.Error(DiagnosticCodes.FindingInvalidValue, location, $"field 'subject' must be an object, found {Describe(subject.ValueKind)}");
            return null;
        }

        foreach (var property in subject.EnumerateObject())
        {
            if (!SubjectFields.Contains(property.Name))
                bag.Error(DiagnosticCodes.FindingInvalidValue, location, $"unknown field 'subject.{property.Name}'", Suggest.DidYouMean(property.Name, SubjectFields));
        }

        var providerText = RequiredString(subject, "provider", location, bag, "subject.");
        var provider = Provider.Ad;
        if (providerText is not null && !Providers.TryParse(providerText, out provider))
        {
            bag.Error(DiagnosticCodes.FindingInvalidValue, location, $"field 'subject.provider' is '{providerText}'", Suggest.DidYouMean(providerText, [.. Providers.Names]));
            return null;
        }

        var id = OptionalString(subject, "id", location, bag, "subject.");
        var name = OptionalString(subject, "name", location, bag, "subject.");
        if (id is null && name is null)
        {
            bag.Error(DiagnosticCodes.FindingMissingField, location, "field 'subject' needs an 'id' or a 'name'", "name the account by UPN, sAMAccountName, login or object id");
            return null;
        }

        return providerText is null ? null : new Subject(provider, id, name);
    }

    private static string? RequiredString(JsonElement element, string name, SourceLocation location, DiagnosticBag bag, string prefix = "")
    {
        if (!element.TryGetProperty(name, out var value))
        {
            bag.Error(DiagnosticCodes.FindingMissingField, location, $"missing field '{prefix}{name}'");
            return null;
        }

        if (value.ValueKind != JsonValueKind.String || string.IsNullOrWhiteSpace(value.GetString()))
        {
            bag.Error(DiagnosticCodes.FindingInvalidValue, location, $"field '{prefix}{name}' must be a non-empty string, found {Describe(value.ValueKind)}");
            return null;
        }

        return value.GetString();
    }

    private static string? OptionalString(JsonElement element, string name, SourceLocation location, DiagnosticBag bag, string prefix)
    {
        if (!element.TryGetProperty(name, out var value) || value.ValueKind == JsonValueKind.Null) return null;
        if (value.ValueKind == JsonValueKind.String && !string.IsNullOrWhiteSpace(value.GetString())) return value.GetString();
        bag.Error(DiagnosticCodes.FindingInvalidValue, location, $"field '{prefix}{name}' must be a non-empty string, found {Describe(value.ValueKind)}");
        return null;
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

    /// <summary>Maps byte offsets to line and column for diagnostics.</summary>
    private sealed class LineIndex
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

        public SourceLocation Locate(string file, long offset)
        {
            var index = _starts.BinarySearch((int)offset);
            if (index < 0) index = ~index - 1;
            var column = Encoding.UTF8.GetCharCount(_bytes, _starts[index], (int)offset - _starts[index]) + 1;
            return new SourceLocation(file, index + 1, column);
        }
    }
}
