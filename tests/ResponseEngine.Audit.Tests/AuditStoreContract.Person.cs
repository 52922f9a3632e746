using System.Text.Json;
using CsCheck;

namespace ResponseEngine.Audit.Tests;

/// <summary>
/// The person index (#21; SQLite V006, SQL Server V007): each store's indexed reads give exactly what a scan of the
/// whole trail gives, and a person looked up through it has exactly the accounts the trail's linked_from links reach
/// (the lookup `respond audit list --person` did before, reading every row, kept here as the oracle).
/// </summary>
public abstract partial class AuditStoreContract
{
    private static readonly string[] Providers = ["ad", "entra", "okta"];
    private static readonly string[] Ids = ["a1", "b2", "c3", "d4", "e5", "f6"];

    /// <summary>An id in some ASCII case: the trail's readers always compared ids without case.</summary>
    private static readonly Gen<string> AnyCaseId = Gen.Select(Gen.Int[0, Ids.Length - 1].Select(i => Ids[i]), Gen.Bool, (id, upper) => upper ? id.ToUpperInvariant() : id);

    /// <summary>Rows about accounts, some acting on a linked account (linked_from in the facts), some about none, some with facts that are not JSON.</summary>
    private static readonly Gen<AuditEntry> PersonRow = Gen.Select(
        Gen.Int[0, 9], Gen.Int[0, 2].Select(i => Providers[i]), AnyCaseId, Gen.Int[0, 2].Select(i => Providers[i]), AnyCaseId, Gen.Bool,
        (kind, provider, id, fromProvider, fromId, upperName) =>
        {
            var name = "n-" + id.ToLowerInvariant();
            var facts = kind switch
            {
                <= 3 => JsonSerializer.Serialize(new { finding_type = "x", linked_from = new { provider = fromProvider, id = fromId, account = "n-" + fromId.ToLowerInvariant(), evidence = $"ev {fromId}" } }),
                4 => "not json \"linked_from\"",
                5 => """{"linked_from": {"provider": 7, "id": "a1"}}""",
                _ => """{"finding_type": "x"}""",
            };
            return kind == 9
                ? Entry(AuditStatus.BreakerOpened)
                : Entry() with { Provider = provider, IdentityId = id, IdentityName = upperName ? name.ToUpperInvariant() : name, Facts = facts };
        });

    private static readonly Gen<AuditEntry[]> PersonTrail = PersonRow.Array[0, 24];

    private static readonly Gen<AuditPersonQuery> PersonQuery = Gen.Select(
        Gen.Select(Gen.Int[0, 2].Select(i => Providers[i]), AnyCaseId, (p, i) => AuditPersons.Key(p, i)).Array[0, 4], Gen.Bool, AnyCaseId)
        .Select((keys, byName, id) => new AuditPersonQuery { Keys = keys.Length == 0 && !byName ? null : keys, Name = byName ? "n-" + id : null });

    [Fact]
    public async Task PersonIndex_ReadsWhatAScanOfTheTrailReads_AndFindsThePersonTheOldWholeTrailLookupFound()
    {
        var store = await StoreAsync();

        await Gen.Select(PersonTrail, PersonQuery, Gen.Select(AnyCaseId, Gen.Bool, (id, byName) => byName ? "N-" + id : id)).SampleAsync(async t =>
        {
            var (trail, query, who) = t;
            if (trail.Length > 0) await store.AppendManyAsync(trail, Ct);
            var all = await store.ReadAsync(new AuditQuery(), Ct);

            var indexed = await store.ReadPersonLinksAsync(query, Ct);
            indexed.Should().BeEquivalentTo(AuditPersons.Scan(all, query), o => o.WithoutStrictOrdering());

            var person = await PersonLookup.FindAsync(store, who, Ct);
            person.Select(a => a.Key).Should().BeEquivalentTo(WholeTrailPerson(all, who));

            var keys = person.Select(a => a.Key).ToList();
            var rows = await store.ReadAsync(new AuditQuery { Accounts = keys, Descending = true, Limit = 5 }, Ct);
            rows.Select(r => r.Sequence).Should().Equal(all.Where(r => person.Any(a => a.Is(r.Entry))).Select(r => r.Sequence).Reverse().Take(5));
        }, iter: 40, threads: 1);
    }

    [Fact]
    public async Task PersonLookup_ByNameWithoutCase_FindsEveryLinkedAccount_WithItsEvidence()
    {
        var store = await StoreAsync();
        AuditEntry Row(string provider, string id, string name, string? linkedFrom = null) => Entry(AuditStatus.Succeeded) with
        {
            Provider = provider, IdentityId = id, IdentityName = name, Action = "disable_user",
            Facts = linkedFrom is null ? """{"finding_type":"x"}""" : $$$"""{"finding_type":"x","linked_from":{"provider":"ad","id":"{{{linkedFrom}}}","account":"alice","evidence":"objectSid S-1-5-21-1 = onPremisesSecurityIdentifier"}}""",
        };

        await store.AppendManyAsync(
        [
            Row("entra", "e-alice", "alice@corp.example.com", linkedFrom: "3f2504e0-4f89-11d3-9a0c-0305e82c3301"),
            Row("okta", "00u-bob", "bob@corp.example.com"),
            Row("okta", "00u-alice", "alice@corp.example.com", linkedFrom: "3F2504E0-4F89-11D3-9A0C-0305E82C3301"),
        ], Ct);

        // The AD account itself has no row (the rule acted on: [entra, okta]); it is known from the rows linked from it.
        var person = await PersonLookup.FindAsync(store, "ALICE", Ct);

        person.Select(a => (a.Provider, a.Name, a.LinkedFrom)).Should().Equal(
            ("ad", "alice", null),
            ("entra", "alice@corp.example.com", "ad:3F2504E0-4F89-11D3-9A0C-0305E82C3301"),
            ("okta", "alice@corp.example.com", "ad:3F2504E0-4F89-11D3-9A0C-0305E82C3301"));
        person[1].Evidence.Should().Be("objectSid S-1-5-21-1 = onPremisesSecurityIdentifier");
        (await PersonLookup.FindAsync(store, "00U-BOB", Ct)).Select(a => a.Id).Should().Equal("00u-bob");
        (await PersonLookup.FindAsync(store, "nobody", Ct)).Should().BeEmpty();
    }

    /// <summary>
    /// The oracle: the lookup `respond audit list --person` made before the index, over every row — accounts as
    /// (provider, id upper-cased), each row an edge to its linked_from account, the component of the account named by id
    /// or name. Names here are ASCII, where its case-insensitive comparison and the index's agree.
    /// </summary>
    private static IEnumerable<string> WholeTrailPerson(IReadOnlyList<AuditRecord> rows, string who)
    {
        var names = new Dictionary<string, string?>();
        var edges = new Dictionary<string, HashSet<string>>();
        void Edge(string a, string b)
        {
            if (!edges.TryGetValue(a, out var set)) edges[a] = set = [];
            set.Add(b);
        }

        foreach (var row in rows)
        {
            var e = row.Entry;
            if (e.Provider is null || e.IdentityId is null) continue;
            var key = $"{e.Provider}:{e.IdentityId.ToUpperInvariant()}";
            names[key] = e.IdentityName ?? names.GetValueOrDefault(key);
            if (AuditPersons.LinkedFrom(e.Facts) is not { } from) continue;
            var other = $"{from.Provider}:{from.Id.ToUpperInvariant()}";
            names.TryAdd(other, from.Account);
            Edge(key, other);
            Edge(other, key);
        }

        var start = names.Where(n => string.Equals(n.Key[(n.Key.IndexOf(':', StringComparison.Ordinal) + 1)..], who, StringComparison.OrdinalIgnoreCase)
            || string.Equals(n.Value, who, StringComparison.OrdinalIgnoreCase)).Select(n => n.Key).ToList();
        var seen = new HashSet<string>(start);
        var queue = new Queue<string>(start);
        while (queue.Count > 0)
        {
            foreach (var next in edges.GetValueOrDefault(queue.Dequeue()) ?? [])
            {
                if (seen.Add(next)) queue.Enqueue(next);
            }
        }

        return seen;
    }
}
