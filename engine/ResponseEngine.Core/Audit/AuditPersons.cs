using System.Text.Json;

namespace ResponseEngine.Audit;

/// <summary>
/// The person index of one audit row (SQLite V006 / SQL Server V007 table <c>audit_person</c>): the account the row is
/// about, and the person it was decided for — the account the finding named. A row acting on a linked account
/// (<c>on:</c>) records that account in its facts as <c>linked_from</c>; every other row is its own account's. Keys are
/// <c>provider:ID</c> with the id's ASCII letters upper-cased (as SQLite's <c>upper()</c> does), so the migration's
/// backfill of older rows and the store's writes of new ones produce the same keys. Derived from hashed fields only
/// (provider, identity id and name, facts), so the index can always be recomputed from the trail.
/// </summary>
public sealed record AuditPersonKey(string Person, string? PersonName, string Account);

/// <summary>One account the person index knows, with the person it was decided for (see <see cref="AuditPersonKey"/>).</summary>
/// <param name="Person">The key of the account the finding named.</param>
/// <param name="PersonName">That account's name, as the row recorded it.</param>
/// <param name="Account">The key of the account the row is about.</param>
/// <param name="Provider">The row's provider.</param>
/// <param name="IdentityId">The row's identity id, as recorded.</param>
/// <param name="IdentityName">The row's identity name, as recorded.</param>
/// <param name="Sequence">The newest row with this person and account.</param>
public sealed record AuditPersonLink(string Person, string? PersonName, string Account, string Provider, string IdentityId, string? IdentityName, long Sequence);

/// <summary>
/// Which person-index entries to read: those whose account or person is one of <see cref="Keys"/>, or whose identity
/// name or person name is <see cref="Name"/> (without ASCII case). Any that match; at least one must be set.
/// </summary>
public sealed record AuditPersonQuery
{
    public IReadOnlyCollection<string>? Keys { get; init; }

    public string? Name { get; init; }
}

public static class AuditPersons
{
    /// <summary><c>provider:ID</c>, the id's ASCII letters upper-cased (ids compare without case, as the trail's readers always did).</summary>
    public static string Key(string provider, string id)
    {
        ArgumentNullException.ThrowIfNull(provider);
        ArgumentNullException.ThrowIfNull(id);
        return provider + ":" + AsciiUpper(id);
    }

    /// <summary>The keys an account id could have in any provider: what a lookup by id alone asks for.</summary>
    public static IReadOnlyList<string> KeysFor(string id) => [.. Findings.Providers.Names.Select(p => Key(p, id))];

    /// <summary>The provider and id a key was made of (the id as folded).</summary>
    public static (string Provider, string Id) Split(string key)
    {
        ArgumentNullException.ThrowIfNull(key);
        var colon = key.IndexOf(':', StringComparison.Ordinal);
        return colon < 0 ? ("", key) : (key[..colon], key[(colon + 1)..]);
    }

    /// <summary>The index entry of a row, or null when the row is about no account (operator and breaker rows).</summary>
    public static AuditPersonKey? Of(AuditEntry entry)
    {
        ArgumentNullException.ThrowIfNull(entry);
        if (entry.Provider is null || entry.IdentityId is null) return null;
        var account = Key(entry.Provider, entry.IdentityId);
        return LinkedFrom(entry.Facts) is { } from
            ? new AuditPersonKey(Key(from.Provider, from.Id), from.Account, account)
            : new AuditPersonKey(account, entry.IdentityName, account);
    }

    /// <summary>The <c>linked_from</c> of a row's facts (provider and id both text), or null; facts that are not JSON have none.</summary>
    public static (string Provider, string Id, string? Account, string? Evidence)? LinkedFrom(string? facts)
    {
        if (facts is null || !facts.Contains("\"linked_from\"", StringComparison.Ordinal)) return null;
        try
        {
            using var document = JsonDocument.Parse(facts);
            if (document.RootElement.ValueKind != JsonValueKind.Object
                || !document.RootElement.TryGetProperty("linked_from", out var from) || from.ValueKind != JsonValueKind.Object
                || !from.TryGetProperty("provider", out var provider) || provider.ValueKind != JsonValueKind.String
                || !from.TryGetProperty("id", out var id) || id.ValueKind != JsonValueKind.String)
            {
                return null;
            }

            // The lengths the trail's columns hold (provider 64, id and name 400 characters), as the migrations' backfill checks them.
            var (p, i, account) = (provider.GetString()!, id.GetString()!, Text(from, "account"));
            if (p.Length > 64 || i.Length > 400) return null;
            return (p, i, account is { Length: <= 400 } ? account : null, Text(from, "evidence"));
        }
        catch (JsonException)
        {
            return null;
        }
    }

    /// <summary>
    /// The person index of <paramref name="rows"/> as a store without the table computes it: the newest row per person and
    /// account among the rows matching <paramref name="query"/>. The stores' SQL returns the same (contract test).
    /// </summary>
    public static IReadOnlyList<AuditPersonLink> Scan(IEnumerable<AuditRecord> rows, AuditPersonQuery query)
    {
        ArgumentNullException.ThrowIfNull(rows);
        ArgumentNullException.ThrowIfNull(query);
        var keys = query.Keys is { } k ? new HashSet<string>(k, StringComparer.Ordinal) : null;
        var newest = new Dictionary<(string, string), AuditPersonLink>();
        foreach (var row in rows)
        {
            if (Of(row.Entry) is not { } index) continue;
            var hit = (keys is not null && (keys.Contains(index.Account) || keys.Contains(index.Person)))
                || (query.Name is { } name && (AsciiEquals(row.Entry.IdentityName, name) || AsciiEquals(index.PersonName, name)));
            if (!hit) continue;
            var link = new AuditPersonLink(index.Person, index.PersonName, index.Account, row.Entry.Provider!, row.Entry.IdentityId!, row.Entry.IdentityName, row.Sequence);
            if (!newest.TryGetValue((index.Person, index.Account), out var seen) || seen.Sequence < row.Sequence) newest[(index.Person, index.Account)] = link;
        }

        return [.. newest.Values.OrderBy(l => l.Person, StringComparer.Ordinal).ThenBy(l => l.Account, StringComparer.Ordinal)];
    }

    /// <summary>Upper-cases ASCII letters only, exactly as SQLite's upper() without ICU does.</summary>
    public static string AsciiUpper(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        return string.Create(text.Length, text, static (span, source) =>
        {
            for (var i = 0; i < source.Length; i++) span[i] = source[i] is >= 'a' and <= 'z' ? (char)(source[i] - 32) : source[i];
        });
    }

    private static bool AsciiEquals(string? a, string b) => a is not null && string.Equals(AsciiUpper(a), AsciiUpper(b), StringComparison.Ordinal);

    private static string? Text(JsonElement element, string name) =>
        element.TryGetProperty(name, out var value) && value.ValueKind == JsonValueKind.String ? value.GetString() : null;
}
