using System.Globalization;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace ResponseEngine.Audit;

/// <summary>
/// The trail as JSON Lines with Elastic Common Schema field names (`respond audit export --format jsonl`), so a SIEM maps
/// it without a custom parser; what ECS has no field for stays under `respond.*`, hashes included, so nothing is lost.
/// </summary>
public static class AuditEcs
{
    /// <summary>The ECS release whose field names these documents use.</summary>
    public const string EcsVersion = "8.11.0";

    public static string Lines(IReadOnlyList<AuditRecord> rows)
    {
        var builder = new StringBuilder();
        foreach (var row in rows) builder.Append(Document(row).ToJsonString()).Append('\n');
        return builder.ToString();
    }

    public static JsonObject Document(AuditRecord row)
    {
        var e = row.Entry;
        var document = new JsonObject
        {
            ["@timestamp"] = row.RecordedAt.ToString("O", CultureInfo.InvariantCulture),
            ["ecs"] = new JsonObject { ["version"] = EcsVersion },
            ["event"] = Compact(new JsonObject
            {
                ["kind"] = "event",
                ["category"] = new JsonArray("iam"),
                ["type"] = new JsonArray(Type(e.Status)),
                ["action"] = e.Action ?? e.Status.Name(),
                ["outcome"] = Outcome(e.Status),
                ["reason"] = e.Reason,
                ["sequence"] = row.Sequence,
                ["id"] = row.Hash,
                ["dataset"] = "respond.audit",
                ["module"] = "respond",
                ["provider"] = e.Provider,
            }),
            ["user"] = Compact(new JsonObject { ["id"] = e.IdentityId, ["name"] = e.IdentityName ?? e.IdentityId }),
            ["rule"] = Compact(new JsonObject { ["name"] = e.RuleId, ["id"] = e.RuleId, ["ruleset"] = e.RuleFile, ["version"] = e.RuleHash }),
            ["host"] = new JsonObject { ["name"] = e.Host },
            ["service"] = new JsonObject { ["name"] = "respond", ["version"] = e.EngineVersion },
            ["error"] = e.Error is null ? null : new JsonObject { ["message"] = e.Error },
            ["respond"] = Compact(new JsonObject
            {
                ["status"] = e.Status.Name(),
                ["run_id"] = e.RunId,
                ["actor"] = e.Actor,
                ["dry_run"] = e.DryRun,
                ["destructive"] = e.Destructive,
                ["intent_sequence"] = e.IntentSequence,
                ["idempotency_key"] = e.IdempotencyKey,
                ["rules_commit"] = e.RulesCommit,
                ["finding"] = Compact(new JsonObject { ["id"] = e.FindingId, ["source"] = e.FindingSource }),
                ["verdict"] = e.Verdict,
                ["guard"] = e.Guard,
                ["parameters"] = Json(e.Parameters),
                ["prior_state"] = Json(e.PriorState),
                ["facts"] = Json(e.Facts),
                ["previous_hash"] = row.PreviousHash,
                ["hash"] = row.Hash,
            }),
        };
        return Compact(document);
    }

    /// <summary>ECS `event.outcome`: success or failure of what the row records; an intent, a hold or a lost answer is unknown.</summary>
    private static string Outcome(AuditStatus status) => status switch
    {
        AuditStatus.Succeeded or AuditStatus.Noop or AuditStatus.Approved or AuditStatus.BreakerRearmed => "success",
        AuditStatus.Failed or AuditStatus.Skipped or AuditStatus.Rejected => "failure",
        _ => "unknown",
    };

    /// <summary>ECS `event.type` for the iam category.</summary>
    private static string Type(AuditStatus status) => status switch
    {
        AuditStatus.Skipped or AuditStatus.Rejected => "denied",
        AuditStatus.Approved or AuditStatus.BreakerOpened or AuditStatus.BreakerRearmed => "admin",
        AuditStatus.Held or AuditStatus.DryRun => "info",
        _ => "change",
    };

    private static JsonNode? Json(string? text)
    {
        if (string.IsNullOrEmpty(text)) return null;
        try
        {
            return JsonNode.Parse(text);
        }
        catch (JsonException)
        {
            return JsonValue.Create(text);
        }
    }

    private static JsonObject Compact(JsonObject node)
    {
        foreach (var key in node.Where(p => p.Value is null || (p.Value is JsonObject { Count: 0 })).Select(p => p.Key).ToList()) node.Remove(key);
        return node;
    }
}
