using System.Collections.Concurrent;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using ResponseEngine.Audit;
using ResponseEngine.Configuration;
using ResponseEngine.Findings;
using ResponseEngine.Planning;

namespace ResponseEngine.Execution;

/// <summary>Who is running, where, and what this run has already decided to do.</summary>
public sealed class RunContext
{
    public RunContext(string runId, EngineOptions options, IAuditStore store, IReadOnlyDictionary<Provider, IConnector> connectors,
        TimeProvider time, bool dryRun, string actor, string host, string engineVersion)
    {
        RunId = runId;
        Options = options;
        Store = store;
        Connectors = connectors;
        Time = time;
        DryRun = dryRun;
        Actor = actor;
        Host = host;
        EngineVersion = engineVersion;
    }

    public string RunId { get; }

    public EngineOptions Options { get; }

    public IAuditStore Store { get; }

    public IReadOnlyDictionary<Provider, IConnector> Connectors { get; }

    public TimeProvider Time { get; }

    public bool DryRun { get; }

    public string Actor { get; }

    public string Host { get; }

    public string EngineVersion { get; }

    /// <summary>Decisions this run passed for execution; a dry run writes no intents, so limits count these too.</summary>
    public ConcurrentQueue<Decision> Passed { get; } = new();

    /// <summary>
    /// What the idempotency keys of <see cref="Passed"/> are hashed from (<see cref="IdempotencyKey.Text"/>), for the dedupe
    /// guard's in-run check: two decisions have the same key exactly when they have the same text, and the text needs no hash.
    /// </summary>
    private readonly HashSet<string> _passedKeyTexts = new(StringComparer.Ordinal);

    // A Lock, not a monitor on a collection: the guards ask these counts several times per decision.
    private readonly Lock _passedGate = new();
    private readonly Dictionary<(Provider, string, string), List<Decision>> _passedOn = [];
    private readonly Dictionary<string, int> _passedByRule = new(StringComparer.Ordinal);
    private readonly Dictionary<string, int> _passedByAction = new(StringComparer.Ordinal);
    private readonly Dictionary<Provider, int> _passedByProvider = [];
    private int _passedDestructive;

    /// <summary>Records a decision the guards let through.</summary>
    public void Pass(Decision decision)
    {
        ArgumentNullException.ThrowIfNull(decision);
        Passed.Enqueue(decision);
        var keyText = IdempotencyKey.Text(decision);

        // Indexed as the guards ask (a plan of a million findings passes thousands; a scan of all of them per decision is quadratic).
        var provider = decision.Identity?.Provider ?? decision.Finding.Subject.Provider;
        lock (_passedGate)
        {
            _passedKeyTexts.Add(keyText);
            if (decision.Identity is { } identity)
            {
                var key = (identity.Provider, identity.Id, decision.ActionName);
                if (!_passedOn.TryGetValue(key, out var list)) _passedOn[key] = list = [];
                list.Add(decision);
            }

            _passedByRule[decision.Rule.Id] = _passedByRule.GetValueOrDefault(decision.Rule.Id) + 1;
            _passedByAction[decision.ActionName] = _passedByAction.GetValueOrDefault(decision.ActionName) + 1;
            _passedByProvider[provider] = _passedByProvider.GetValueOrDefault(provider) + 1;
            if (decision.Action?.Destructive == true) _passedDestructive++;
        }
    }

    /// <summary>Whether this run passed a decision with the same idempotency key (compared on what the key is hashed from).</summary>
    public bool PassedSameKey(Decision decision)
    {
        ArgumentNullException.ThrowIfNull(decision);
        var text = IdempotencyKey.Text(decision);
        lock (_passedGate) return _passedKeyTexts.Contains(text);
    }

    /// <summary>The decisions this run passed for <paramref name="action"/> on this account, in the order passed.</summary>
    public IReadOnlyList<Decision> PassedOn(Provider provider, string identityId, string action)
    {
        lock (_passedGate) return _passedOn.TryGetValue((provider, identityId, action), out var list) ? [.. list] : [];
    }

    /// <summary><see cref="NotInStore"/> for <paramref name="action"/> on this account (indexed in a dry run).</summary>
    public IEnumerable<Decision> NotInStoreOn(Provider provider, string identityId, string action) => DryRun
        ? PassedOn(provider, identityId, action)
        : StagedIntents.Where(d => d.ActionName == action && d.Identity is { } other && other.Provider == provider && string.Equals(other.Id, identityId, StringComparison.Ordinal));

    /// <summary>How many of <see cref="NotInStore"/> are of this rule, action, provider, destructive, or all (null: any).</summary>
    public int NotInStoreCount(string? ruleId = null, string? action = null, Provider? provider = null, bool destructiveOnly = false)
    {
        var given = (ruleId is null ? 0 : 1) + (action is null ? 0 : 1) + (provider is null ? 0 : 1) + (destructiveOnly ? 1 : 0);
        if (!DryRun || given > 1)
        {
            return NotInStore.Count(d => (ruleId is null || d.Rule.Id == ruleId) && (action is null || d.ActionName == action)
                && (provider is null || (d.Identity?.Provider ?? d.Finding.Subject.Provider) == provider) && (!destructiveOnly || d.Action?.Destructive == true));
        }

        lock (_passedGate)
        {
            if (ruleId is not null) return _passedByRule.GetValueOrDefault(ruleId);
            if (action is not null) return _passedByAction.GetValueOrDefault(action);
            if (provider is { } p) return _passedByProvider.GetValueOrDefault(p);
            return destructiveOnly ? _passedDestructive : Passed.Count;
        }
    }

    /// <summary>The rows of the guard phase under way, not yet written (set by the executor while it holds the guard lock).</summary>
    internal GuardBatch? Staging { get; set; }

    /// <summary>What the guards of the guard phase under way read from the trail, read once per batch (null: each guard queries the store).</summary>
    internal GuardView? View { get; set; }

    /// <summary>Decisions passed in the guard phase under way whose intent rows are staged but not yet in the store.</summary>
    public IReadOnlyList<Decision> StagedIntents => Staging?.Intents ?? [];

    /// <summary>
    /// Passed decisions that the store does not show as intents yet, which limits must count on top of the store's: every
    /// passed decision in a dry run (it writes no intents), otherwise the intents staged in the guard phase under way.
    /// </summary>
    public IEnumerable<Decision> NotInStore => DryRun ? Passed : StagedIntents;

    /// <summary>
    /// Appends a row a guard must write at once (the breaker opening): after the rows staged so far in the guard phase,
    /// in the same transaction, so the trail keeps the order in which decisions were made.
    /// </summary>
    public async Task<AuditRecord> AppendAsync(AuditEntry entry, CancellationToken cancellationToken)
    {
        try
        {
            return Staging is { } staging ? await staging.AppendAfterStagedAsync(entry, cancellationToken) : await Store.AppendAsync(entry, cancellationToken);
        }
        finally
        {
            // The trail changed under the batch's view (the staged intents and this row are in the store now): read again.
            View?.Invalidate();
        }
    }

    public DateTimeOffset Now => Time.GetUtcNow();

    /// <summary>A row pre-filled with the run's provenance.</summary>
    public AuditEntry Entry(AuditStatus status) => new()
    {
        RunId = RunId,
        Host = Host,
        EngineVersion = EngineVersion,
        Actor = Actor,
        Status = status,
        DryRun = DryRun,
    };
}

/// <summary>The same decision always has the same key, so a retry or a second run can recognise it.</summary>
public static class IdempotencyKey
{
    public static string For(Decision decision) => Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(Text(decision))));

    /// <summary>What the key is the SHA-256 of: equal texts, equal keys (and, but for a hash collision, the other way round).</summary>
    public static string Text(Decision decision)
    {
        ArgumentNullException.ThrowIfNull(decision);
        return string.Join('\u001f',
            decision.Finding.Source, decision.Finding.Id, decision.Rule.Id, decision.Rule.Source.ContentHash,
            decision.ActionName, (decision.Identity?.Provider ?? decision.Finding.Subject.Provider).Name(),
            decision.Identity?.Id ?? decision.Finding.Subject.Id ?? decision.Finding.Subject.Name ?? "", decision.Parameters.Canonical);
    }

    /// <summary>The facts a rule saw, as JSON for the audit row.</summary>
    public static string Facts(Decision decision)
    {
        using var stream = new MemoryStream();
        using (var writer = new Utf8JsonWriter(stream))
        {
            writer.WriteStartObject();
            writer.WriteString("finding_type", decision.Finding.Type);
            writer.WriteString("severity", decision.Finding.Severity.Name());
            writer.WriteString("observed_at", decision.Finding.ObservedAt.ToString("O", System.Globalization.CultureInfo.InvariantCulture));
            if (decision.Identity is { } identity)
            {
                writer.WriteBoolean("enabled", identity.Enabled);
                writer.WriteBoolean("privileged", identity.Privileged);
                writer.WriteBoolean("guest", identity.Guest);
                writer.WriteStartArray("groups");
                foreach (var group in identity.TransitiveGroups.Order(StringComparer.OrdinalIgnoreCase)) writer.WriteStringValue(group);
                writer.WriteEndArray();
                writer.WriteStartArray("roles");
                foreach (var role in identity.Roles) writer.WriteStringValue(role);
                writer.WriteEndArray();
            }

            if (decision.Link is { } link)
            {
                // The account acted on is linked to the finding's subject: which subject, and the equal values that say so.
                writer.WriteStartObject("linked_from");
                writer.WriteString("provider", decision.Person?.Subject.Provider.Name() ?? decision.Finding.Subject.Provider.Name());
                writer.WriteString("id", decision.Person?.Subject.Id ?? decision.Finding.Subject.Id);
                writer.WriteString("account", decision.Person?.Subject.Display ?? decision.Finding.Subject.Display);
                writer.WriteString("evidence", link.Evidence);
                writer.WriteEndObject();
            }

            writer.WriteStartObject("attributes");
            foreach (var (key, value) in decision.Finding.Attributes.OrderBy(a => a.Key, StringComparer.Ordinal))
            {
                writer.WritePropertyName(key);
                value.WriteTo(writer);
            }

            writer.WriteEndObject();
            writer.WriteEndObject();
        }

        return Encoding.UTF8.GetString(stream.ToArray());
    }
}
