using System.Globalization;

namespace ResponseEngine.Audit;

/// <summary>
/// The trail's export formats, one implementation for `respond audit export` and the console's export: every stored
/// field by its snake_case name (JSON keeps every value exactly, for checking the hashes), and CSV a line at a time
/// (streamed), cells a spreadsheet would read as a formula neutralised.
/// </summary>
public static class AuditExport
{
    public static Dictionary<string, object?> Fields(AuditRecord r)
    {
        ArgumentNullException.ThrowIfNull(r);
        var e = r.Entry;
        return new Dictionary<string, object?>
        {
            ["sequence"] = r.Sequence, ["recorded_at"] = r.RecordedAt.ToString("O", CultureInfo.InvariantCulture), ["status"] = e.Status.Name(),
            ["dry_run"] = e.DryRun, ["run_id"] = e.RunId, ["host"] = e.Host, ["engine_version"] = e.EngineVersion, ["actor"] = e.Actor,
            ["idempotency_key"] = e.IdempotencyKey, ["intent_sequence"] = e.IntentSequence, ["rule_id"] = e.RuleId, ["rule_file"] = e.RuleFile,
            ["rule_hash"] = e.RuleHash, ["rules_commit"] = e.RulesCommit, ["finding_id"] = e.FindingId, ["finding_source"] = e.FindingSource,
            ["provider"] = e.Provider, ["identity_id"] = e.IdentityId, ["identity_name"] = e.IdentityName, ["action"] = e.Action,
            ["parameters"] = e.Parameters, ["destructive"] = e.Destructive, ["verdict"] = e.Verdict, ["guard"] = e.Guard, ["reason"] = e.Reason,
            ["error"] = e.Error, ["prior_state"] = e.PriorState, ["facts"] = e.Facts, ["previous_hash"] = r.PreviousHash, ["hash"] = r.Hash,
        };
    }

    /// <summary>The CSV header line (no line break).</summary>
    public static string CsvHeader { get; } = string.Join(',', Fields(new AuditRecord(0, DateTimeOffset.UnixEpoch,
        new AuditEntry { RunId = "", Host = "", EngineVersion = "", Actor = "", Status = AuditStatus.Intended }, "", "")).Keys);

    /// <summary>One row as a CSV line (no line break).</summary>
    public static string CsvLine(AuditRecord row) =>
        string.Join(',', Fields(row).Values.Select(v => Quote(Convert.ToString(v, CultureInfo.InvariantCulture) ?? "")));

    private static string Quote(string value)
    {
        // OWASP CSV injection: a cell a spreadsheet would read as a formula gets a leading apostrophe (data from findings
        // reaches these cells). The JSON export keeps every value exactly, for checking the hashes.
        if (value.Length > 0 && value[0] is '=' or '+' or '-' or '@' or '\t' or '\r') value = "'" + value;
        return value.IndexOfAny([',', '"', '\n', '\r', '\t']) >= 0 || value.StartsWith('\'') ? "\"" + value.Replace("\"", "\"\"", StringComparison.Ordinal) + "\"" : value;
    }
}
