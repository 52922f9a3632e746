using System.Collections.Immutable;
using System.Text;
using System.Text.Json;
using ResponseEngine.Configuration;
using ResponseEngine.Findings;
using ResponseEngine.Inbox;

namespace ResponseEngine.Service.Pollers;

/// <summary>
/// Turns a quarantined record back into inbox entries for `respond inbox resubmit`: a corrected finding file when the
/// operator gives one, else the stored record read again the way its input reads it (a canonical finding from the
/// webhook or a folder; an Okta event or a Graph alert or risky user mapped with the poller's current settings) — after
/// an upgrade or a mapping fix, the same record may now be a finding.
/// </summary>
public static class Resubmission
{
    public static (IReadOnlyList<InboxEntry> Entries, string? Problem) Prepare(RejectedItem item, EngineOptions options, byte[]? corrected, string? correctedName)
    {
        ArgumentNullException.ThrowIfNull(item);
        ArgumentNullException.ThrowIfNull(options);
        var origin = "resubmitted:" + item.Origin;
        if (corrected is not null) return Canonical(corrected, correctedName ?? "corrected.json", origin);
        var kind = item.Origin.Split(':')[0];
        var name = item.Origin.Contains(':', StringComparison.Ordinal) ? item.Origin[(item.Origin.IndexOf(':', StringComparison.Ordinal) + 1)..] : "";
        if (kind is not ("okta_logs" or "graph_alerts" or "graph_risky_users")) return Canonical(Encoding.UTF8.GetBytes(item.Payload), item.Key + ".json", origin);

        var poller = options.Serve.Pollers.FirstOrDefault(p => p.Name == name && p.Kind == kind) ?? new PollerOptions(name, kind, TimeSpan.FromMinutes(1), ImmutableDictionary<string, string>.Empty);
        JsonDocument wrapped;
        try
        {
            wrapped = JsonDocument.Parse("[" + item.Payload + "]");
        }
        catch (JsonException e)
        {
            return ([], $"not valid JSON: {e.Message}; pass a corrected record with --file");
        }

        using var _ = wrapped;
        var (entries, rejected) = VendorRecords.MapAll(wrapped.RootElement, origin, _ => null, record => kind switch
        {
            "okta_logs" => OktaLogPoller.Map(record, poller) is { } r ? [GraphAlertsPoller.Check(r, origin)] : [],
            "graph_alerts" => GraphAlerts.Map(record, poller).Select(r => GraphAlertsPoller.Check(r, origin)),
            _ => GraphRiskyUsers.Map(record, poller) is { } r ? [GraphAlertsPoller.Check(r, origin)] : [],
        });
        if (rejected.Count > 0) return ([], string.Join("; ", rejected.Select(r => r.Reason)));
        return entries.Count == 0 ? ([], "the record maps to no finding (the mapping skips it)") : (entries, null);
    }

    private static (IReadOnlyList<InboxEntry>, string?) Canonical(byte[] bytes, string name, string origin)
    {
        var load = FindingReader.ReadBytes(bytes, name.EndsWith(".json", StringComparison.OrdinalIgnoreCase) ? name : name + ".json");
        if (load.HasErrors) return ([], string.Join("; ", load.Diagnostics.Where(d => d.IsError).Select(d => d.ToString())));
        if (load.Findings.Length == 0) return ([], "no finding in it");
        return ([.. load.Findings.Select(f => new InboxEntry(f.Source, f.Id, FindingJson.Write(f), origin))], null);
    }
}
