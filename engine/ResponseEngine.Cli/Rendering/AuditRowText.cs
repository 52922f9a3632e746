using System.Globalization;
using System.Text.Encodings.Web;
using System.Text.Json;
using ResponseEngine.Audit;

namespace ResponseEngine.Cli.Rendering;

/// <summary>
/// One audit row for a person (`respond audit show`): a field a line, the JSON fields indented as JSON rather than as an
/// escaped string, and every line passed through <see cref="TerminalText"/> because findings and directories wrote much of it.
/// </summary>
internal static class AuditRowText
{
    private static readonly JsonSerializerOptions Pretty = new() { WriteIndented = true, Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping };

    public static IEnumerable<string> Lines(AuditRecord row)
    {
        var e = row.Entry;
        var lines = new List<string>
        {
            Field("row", $"#{row.Sequence}{(e.IntentSequence is { } intent ? $" (outcome of #{intent})" : "")}"),
            Field("recorded", row.RecordedAt.UtcDateTime.ToString("yyyy-MM-ddTHH:mm:ss.fffffffZ", CultureInfo.InvariantCulture)),
            Field("status", e.Status.Name() + (e.DryRun && e.Status != AuditStatus.DryRun ? " (dry run)" : "")),
        };
        void Add(string name, string? value)
        {
            if (!string.IsNullOrEmpty(value)) lines.Add(Field(name, value));
        }

        Add("action", e.Action is null ? null : e.Action + (e.Destructive ? " (destructive)" : ""));
        Add("target", e.Provider is null && e.IdentityId is null ? null : $"{e.Provider} {(e.IdentityName is { } name && name != e.IdentityId ? $"{name} ({e.IdentityId})" : e.IdentityId)}");
        Add("verdict", e.Verdict);
        Add("guard", e.Guard);
        Add("reason", e.Reason);
        Add("error", e.Error);
        Add("rule", e.RuleId is null ? null : $"{e.RuleId}{Suffix(e.RuleFile, e.RuleHash, e.RulesCommit is null ? null : "commit " + e.RulesCommit)}");
        Add("finding", e.FindingId is null ? null : $"{e.FindingId}{Suffix(e.FindingSource is null ? null : "from " + e.FindingSource)}");
        Add("run", $"{e.RunId} on {e.Host} by {e.Actor} (engine {e.EngineVersion})");
        Add("idempotency", e.IdempotencyKey);
        lines.AddRange(Json("parameters", e.Parameters));
        lines.AddRange(Json("prior state", e.PriorState));
        lines.AddRange(Json("facts", e.Facts));
        Add("hash", row.Hash);
        Add("previous", row.PreviousHash);
        return lines.Select(TerminalText.Escape);
    }

    private static string Suffix(params string?[] parts) =>
        parts.Where(p => !string.IsNullOrEmpty(p)).ToList() is { Count: > 0 } present ? $" ({string.Join(", ", present)})" : "";

    private static string Field(string name, string value) => $"{name,-11} {value}";

    /// <summary>A JSON field indented under its name; text that is not JSON is shown as it is (escaped like any line).</summary>
    private static IEnumerable<string> Json(string name, string? json)
    {
        if (string.IsNullOrEmpty(json)) return [];
        try
        {
            using var document = JsonDocument.Parse(json);
            var text = JsonSerializer.Serialize(document.RootElement, Pretty).ReplaceLineEndings("\n").Split('\n');
            return [Field(name, text[0]), .. text.Skip(1).Select(l => new string(' ', 12) + l)];
        }
        catch (JsonException)
        {
            return [Field(name, json)];
        }
    }
}
