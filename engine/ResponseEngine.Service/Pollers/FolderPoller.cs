using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using ResponseEngine.Configuration;
using ResponseEngine.Diagnostics;
using ResponseEngine.Findings;
using ResponseEngine.Inbox;

namespace ResponseEngine.Service.Pollers;

/// <summary>
/// A watched folder of exports: canonical findings as JSON or NDJSON, and CSV exports in the ITDR and Trend Vision One
/// styles (columns mapped by header, see <see cref="CsvFindings"/>). The cursor is each file's content hash, so a file
/// is read when it appears or changes (an appended NDJSON is read again; its old records are duplicates, accepted once).
/// A bad record is skipped and counted; the others go in.
/// </summary>
public sealed class FolderPoller(PollerOptions options, TimeProvider time) : IPoller
{
    private static readonly string[] Extensions = [".json", ".ndjson", ".jsonl", ".csv"];

    private static readonly System.Text.UTF8Encoding StrictUtf8 = new(encoderShouldEmitUTF8Identifier: false, throwOnInvalidBytes: true);

    public Task<PollPage> PollAsync(string? cursor, CancellationToken cancellationToken)
    {
        var folder = options.Get("path")!;
        if (!Directory.Exists(folder)) throw new PollerException($"folder '{folder}' does not exist");
        var seen = ReadCursor(cursor);
        var next = new SortedDictionary<string, string>(StringComparer.Ordinal);
        var entries = new List<InboxEntry>();
        var rejected = new List<RejectedRecord>();
        var origin = $"folder:{options.Name}";
        List<string> files;
        try
        {
            files = [.. Directory.EnumerateFiles(folder, "*", SearchOption.AllDirectories)
                .Where(f => Extensions.Contains(Path.GetExtension(f), StringComparer.OrdinalIgnoreCase))
                .Order(StringComparer.Ordinal)];
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new PollerException($"folder '{folder}' cannot be listed: {e.Message}", e);
        }

        foreach (var file in files)
        {
            cancellationToken.ThrowIfCancellationRequested();
            var relative = Path.GetRelativePath(folder, file).Replace('\\', '/');
            byte[] bytes;
            try
            {
                if (new FileInfo(file).Length > FindingReader.MaxFileBytes)
                {
                    var size = $"size:{new FileInfo(file).Length}";
                    next[relative] = size;
                    if (!seen.TryGetValue(relative, out var was) || was != size)
                    {
                        rejected.Add(new RejectedRecord(origin, relative, "", $"the file is over the {FindingReader.MaxFileBytes / (1024 * 1024)} MiB limit; split it"));
                    }

                    continue;
                }

                bytes = File.ReadAllBytes(file);
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                continue; // still being written, or not readable yet: next time
            }

            var hash = Convert.ToHexStringLower(SHA256.HashData(bytes));
            next[relative] = hash;
            if (seen.TryGetValue(relative, out var before) && before == hash) continue;

            if (Path.GetExtension(file).Equals(".csv", StringComparison.OrdinalIgnoreCase))
            {
                string text;
                try
                {
                    text = StrictUtf8.GetString(bytes);
                }
                catch (System.Text.DecoderFallbackException e)
                {
                    rejected.Add(new RejectedRecord(origin, relative, Encoding.UTF8.GetString(bytes, 0, Math.Min(bytes.Length, FindingReader.MaxRecordText)),
                        $"{relative}: {DiagnosticCodes.FindingNotText} the file is not UTF-8 (byte {e.Index}); save it as UTF-8"));
                    continue;
                }

                var (good, bad) = CsvFindings.Read(text, relative, options, time);
                entries.AddRange(good.Select(f => new InboxEntry(f.Source, f.Id, f.Payload, origin)));
                rejected.AddRange(bad.Select(b => new RejectedRecord(origin, b.Where, b.Row, b.Problem)));
            }
            else
            {
                var load = FindingReader.ReadBytes(bytes, relative);
                entries.AddRange(load.Findings.Select(f => new InboxEntry(f.Source, f.Id, FindingJson.Write(f), origin)));
                rejected.AddRange(load.Rejected.Select(r => new RejectedRecord(origin, r.Location.ToString(), r.Record, r.Reason)));
            }
        }

        return Task.FromResult(new PollPage(entries, JsonSerializer.Serialize(next, CursorJson.Default.SortedDictionaryStringString), false, rejected));
    }

    private static Dictionary<string, string> ReadCursor(string? cursor)
    {
        if (string.IsNullOrEmpty(cursor)) return [];
        try
        {
            return JsonSerializer.Deserialize(cursor, CursorJson.Default.DictionaryStringString) ?? [];
        }
        catch (JsonException)
        {
            return [];
        }
    }
}

/// <summary>Writes a finding back as its canonical JSON record (what the inbox stores).</summary>
public static class FindingJson
{
    public static string Write(Finding finding)
    {
        ArgumentNullException.ThrowIfNull(finding);
        var subject = new JsonObject { ["provider"] = finding.Subject.Provider.Name() };
        if (finding.Subject.Id is not null) subject["id"] = finding.Subject.Id;
        if (finding.Subject.Name is not null) subject["name"] = finding.Subject.Name;
        var attributes = new JsonObject();
        foreach (var (key, value) in finding.Attributes.OrderBy(a => a.Key, StringComparer.Ordinal)) attributes[key] = JsonNode.Parse(value.GetRawText());
        return new JsonObject
        {
            ["id"] = finding.Id,
            ["source"] = finding.Source,
            ["kind"] = finding.Kind == FindingKind.Posture ? "posture" : "detection",
            ["type"] = finding.Type,
            ["severity"] = finding.Severity.Name(),
            ["observed_at"] = finding.ObservedAt.ToUniversalTime().ToString("yyyy-MM-dd'T'HH:mm:ss.FFFFFFF'Z'", CultureInfo.InvariantCulture),
            ["subject"] = subject,
            ["title"] = finding.Title,
            ["attributes"] = attributes,
        }.ToJsonString();
    }

    /// <summary>Checks a record built by an adapter as any other finding is checked; null with the reasons (each at the JSON pointer of its field) when it is not a valid finding.</summary>
    public static (string? Payload, Finding? Finding, string? Problem) Validate(JsonObject record, string where)
    {
        ArgumentNullException.ThrowIfNull(record);
        var text = record.ToJsonString();
        using var document = JsonDocument.Parse(text);
        var bag = new DiagnosticBag();
        var finding = FindingReader.Parse(document.RootElement, pointer => SourceLocation.FileOnly(pointer.Length == 0 ? where : $"{where} {pointer}"), bag);
        return finding is null
            ? (null, null, string.Join("; ", bag.Items.Where(d => d.IsError).Select(d => $"{d.Location}: {d.Code} {d.Message}")))
            : (text, finding, null);
    }
}

/// <summary>
/// CSV exports mapped to findings by header (case and punctuation ignored): id (id, alert id, workbench id, detection
/// id, finding id), type (type, finding type, detection type, model, alert name), severity (severity, risk level),
/// observed_at (observed at, detected at, created, created date time, first seen, time), subject name (user, account,
/// upn, user principal name, impacted user, login), subject id (user id, object id, sid), provider (provider, directory;
/// else the poller's `provider` setting), source (else the poller's `source`, else its name), title (title,
/// description, alert name, model). Every other column becomes an attribute. Types are turned into snake_case;
/// severities info/informational become informational.
/// </summary>
public static partial class CsvFindings
{
    private static readonly Dictionary<string, string[]> Columns = new(StringComparer.Ordinal)
    {
        ["id"] = ["id", "alertid", "workbenchid", "detectionid", "findingid", "eventid"],
        ["type"] = ["type", "findingtype", "detectiontype", "model", "alertname", "riskevent"],
        ["severity"] = ["severity", "risklevel", "risk"],
        ["observed_at"] = ["observedat", "detectedat", "created", "createddatetime", "firstseen", "time", "timestamp", "detectiontime"],
        ["name"] = ["user", "account", "upn", "userprincipalname", "impacteduser", "login", "username", "accountname"],
        ["subject_id"] = ["userid", "objectid", "sid", "subjectid", "accountid"],
        ["provider"] = ["provider", "directory"],
        ["source"] = ["source", "product"],
        ["title"] = ["title", "description", "alertname", "model"],
    };

    public static (List<(string Source, string Id, string Payload)> Findings, List<(string Where, string Row, string Problem)> Bad) Read(string text, string file, PollerOptions options, TimeProvider time)
    {
        ArgumentNullException.ThrowIfNull(options);
        var rows = Parse(text);
        var good = new List<(string, string, string)>();
        var bad = new List<(string, string, string)>();
        if (rows.Count == 0) return (good, bad);
        var header = rows[0].Select(Normalize).ToList();
        int Find(string field) => Columns[field].Select(alias => header.IndexOf(alias)).FirstOrDefault(i => i >= 0, -1);
        var index = Columns.Keys.ToDictionary(k => k, Find);
        for (var r = 1; r < rows.Count; r++)
        {
            var row = rows[r];
            if (row.All(string.IsNullOrWhiteSpace)) continue;
            string? Cell(string field) => index[field] is var i and >= 0 && i < row.Count && !string.IsNullOrWhiteSpace(row[i]) ? row[i].Trim() : null;
            var subject = new JsonObject { ["provider"] = (Cell("provider") ?? options.Get("provider") ?? "ad").ToLowerInvariant() };
            if (Cell("subject_id") is { } sid) subject["id"] = sid;
            if (Cell("name") is { } name) subject["name"] = name;
            var attributes = new JsonObject();
            var used = index.Values.Where(i => i >= 0).ToHashSet();
            for (var c = 0; c < header.Count && c < row.Count; c++)
            {
                if (!used.Contains(c) && !string.IsNullOrWhiteSpace(row[c])) attributes[SnakeCase(rows[0][c])] = row[c].Trim();
            }

            var record = new JsonObject
            {
                ["id"] = Cell("id"),
                ["source"] = Cell("source") ?? options.Get("source") ?? options.Name,
                ["kind"] = options.Get("finding_kind") ?? "detection",
                ["type"] = Cell("type") is { } type ? SnakeCase(type) : null,
                ["severity"] = Severity(Cell("severity")),
                ["observed_at"] = Timestamp(Cell("observed_at")),
                ["subject"] = subject,
                ["title"] = Cell("title") ?? Cell("type") ?? "",
                ["attributes"] = attributes,
            };
            var (payload, finding, problem) = FindingJson.Validate(record, $"{file}:{r + 1}");
            if (payload is null || finding is null)
            {
                bad.Add(($"{file}:{r + 1}", string.Join(",", row.Select(c => c.Contains(',') || c.Contains('"') ? "\"" + c.Replace("\"", "\"\"") + "\"" : c)), problem ?? "not a finding"));
                continue;
            }

            good.Add((finding.Source, finding.Id, payload));
        }

        _ = time;
        return (good, bad);
    }

    /// <summary>RFC 4180: commas, double-quoted fields with "" escapes and line breaks inside quotes.</summary>
    public static List<List<string>> Parse(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        var rows = new List<List<string>>();
        var row = new List<string>();
        var field = new StringBuilder();
        var quoted = false;
        for (var i = 0; i < text.Length; i++)
        {
            var c = text[i];
            if (quoted)
            {
                if (c == '"' && i + 1 < text.Length && text[i + 1] == '"')
                {
                    field.Append('"');
                    i++;
                }
                else if (c == '"') quoted = false;
                else field.Append(c);
            }
            else if (c == '"') quoted = true;
            else if (c == ',')
            {
                row.Add(field.ToString());
                field.Clear();
            }
            else if (c is '\n' or '\r')
            {
                if (c == '\r' && i + 1 < text.Length && text[i + 1] == '\n') i++;
                row.Add(field.ToString());
                field.Clear();
                rows.Add(row);
                row = [];
            }
            else if (c != '\uFEFF' || i > 0) field.Append(c);
        }

        if (field.Length > 0 || row.Count > 0)
        {
            row.Add(field.ToString());
            rows.Add(row);
        }

        return rows;
    }

    private static string? Severity(string? text) => text?.ToLowerInvariant() switch
    {
        null => null,
        "info" or "informational" => "informational",
        var s => s,
    };

    private static string? Timestamp(string? text)
    {
        if (text is null) return null;
        if (FindingReader.TryParseTimestamp(text, out _)) return text;
        return DateTimeOffset.TryParse(text, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal | DateTimeStyles.AdjustToUniversal, out var value)
            ? value.ToString("yyyy-MM-dd'T'HH:mm:ss'Z'", CultureInfo.InvariantCulture)
            : text;
    }

    private static string Normalize(string header) => NonAlphanumeric().Replace(header.ToLowerInvariant(), "");

    public static string SnakeCase(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        var spaced = CamelBoundary().Replace(text.Trim(), "$1_$2");
        var snake = NonAlphanumeric().Replace(spaced.ToLowerInvariant(), "_").Trim('_');
        return snake.Length > 0 && char.IsAsciiLetter(snake[0]) ? snake : "x_" + snake;
    }

    [GeneratedRegex("[^a-z0-9]+")]
    private static partial Regex NonAlphanumeric();

    [GeneratedRegex("([a-z0-9])([A-Z])")]
    private static partial Regex CamelBoundary();
}

[System.Text.Json.Serialization.JsonSerializable(typeof(SortedDictionary<string, string>))]
[System.Text.Json.Serialization.JsonSerializable(typeof(Dictionary<string, string>))]
internal sealed partial class CursorJson : System.Text.Json.Serialization.JsonSerializerContext;
