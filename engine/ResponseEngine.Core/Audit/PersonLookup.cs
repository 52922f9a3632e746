namespace ResponseEngine.Audit;

/// <summary>
/// One account of a person as the audit trail knows it. <see cref="LinkedFrom"/> and <see cref="Evidence"/> are set when
/// some row acted on this account because it is linked to another (<c>on:</c>): the account the finding named and the
/// equal values that linked them, from the newest such row.
/// </summary>
public sealed record PersonAccount(string Provider, string Id, string? Name, string Key, string? LinkedFrom, string? Evidence)
{
    /// <summary>Whether an audit row is about this account (provider, and id without ASCII case).</summary>
    public bool Is(AuditEntry entry)
    {
        ArgumentNullException.ThrowIfNull(entry);
        return entry.Provider is not null && entry.IdentityId is not null && AuditPersons.Key(entry.Provider, entry.IdentityId) == Key;
    }
}

/// <summary>
/// A person's accounts as the trail links them (<c>respond audit list --person</c> and the console's person timeline):
/// the rows about the account named by id or name, then every account those rows' persons reach and back, until nothing
/// new is found. Read through the person index (<see cref="IAuditStore.ReadPersonLinksAsync"/>), a few indexed reads
/// per account, never the whole trail.
/// </summary>
public static class PersonLookup
{
    /// <summary>At most this many accounts are followed: a trail whose links reach more is not one person, and the lookup stops.</summary>
    public const int MaxAccounts = 64;

    /// <summary>The person's accounts, ordered by provider and id; empty when no row is about an account with that id or name.</summary>
    public static async Task<IReadOnlyList<PersonAccount>> FindAsync(IAuditStore store, string who, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(store);
        ArgumentException.ThrowIfNullOrEmpty(who);
        var links = new Dictionary<(string Person, string Account), AuditPersonLink>();
        var seen = new HashSet<string>(StringComparer.Ordinal);
        var frontier = new HashSet<string>(StringComparer.Ordinal);
        void Take(IEnumerable<AuditPersonLink> found)
        {
            foreach (var link in found)
            {
                links[(link.Person, link.Account)] = link;
                foreach (var key in (string[])[link.Person, link.Account])
                {
                    if (!seen.Contains(key)) frontier.Add(key);
                }
            }
        }

        Take(await store.ReadPersonLinksAsync(new AuditPersonQuery { Keys = AuditPersons.KeysFor(who), Name = who }, cancellationToken).ConfigureAwait(false));
        while (frontier.Count > 0 && seen.Count < MaxAccounts)
        {
            var ask = frontier.ToList();
            seen.UnionWith(ask);
            frontier.Clear();
            Take(await store.ReadPersonLinksAsync(new AuditPersonQuery { Keys = ask }, cancellationToken).ConfigureAwait(false));
        }

        seen.UnionWith(frontier);
        var accounts = new List<PersonAccount>();
        foreach (var key in seen)
        {
            var own = links.Values.Where(l => l.Account == key).MaxBy(l => l.Sequence);
            var linked = links.Values.Where(l => l.Account == key && l.Person != key).MaxBy(l => l.Sequence);
            string? evidence = null;
            if (linked is not null)
            {
                var row = await store.ReadAsync(new AuditQuery { AfterSequence = linked.Sequence - 1, Limit = 1 }, cancellationToken).ConfigureAwait(false);
                evidence = row.Count == 1 ? AuditPersons.LinkedFrom(row[0].Entry.Facts)?.Evidence : null;
            }

            if (own is not null)
            {
                accounts.Add(new PersonAccount(own.Provider, own.IdentityId, own.IdentityName, key, linked?.Person, evidence));
            }
            else
            {
                // Only ever the account a finding named, acted on through its links: known by its key and the name the rows recorded.
                var (provider, id) = AuditPersons.Split(key);
                var name = links.Values.Where(l => l.Person == key).MaxBy(l => l.Sequence)?.PersonName;
                accounts.Add(new PersonAccount(provider, id, name, key, null, null));
            }
        }

        return [.. accounts.OrderBy(a => a.Provider, StringComparer.Ordinal).ThenBy(a => a.Key, StringComparer.Ordinal)];
    }
}
