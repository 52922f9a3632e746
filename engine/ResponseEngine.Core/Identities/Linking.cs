using System.Collections.Immutable;
using ResponseEngine.Findings;

namespace ResponseEngine.Identities;

/// <summary>An attribute an Okta account may be matched on, exactly, when configured (linking.okta_match in respond.yaml).</summary>
public enum LinkAttribute
{
    /// <summary>The Okta login equals the AD or Entra userPrincipalName (compared without case, as all three compare logins).</summary>
    Login,

    /// <summary>The email addresses are equal (without case).</summary>
    Email,

    /// <summary>The employee ids are equal (AD employeeID, Entra employeeId, Okta employeeNumber), exactly.</summary>
    EmployeeId,
}

public static class LinkAttributes
{
    public static IReadOnlyList<string> Names { get; } = ["login", "email", "employee_id"];

    public static string Name(this LinkAttribute attribute) => attribute switch
    {
        LinkAttribute.Login => "login",
        LinkAttribute.Email => "email",
        LinkAttribute.EmployeeId => "employee_id",
        _ => throw new ArgumentOutOfRangeException(nameof(attribute)),
    };

    public static bool TryParse(string? text, out LinkAttribute attribute)
    {
        switch (text)
        {
            case "login": attribute = LinkAttribute.Login; return true;
            case "email": attribute = LinkAttribute.Email; return true;
            case "employee_id": attribute = LinkAttribute.EmployeeId; return true;
            default: attribute = default; return false;
        }
    }
}

/// <summary>
/// How accounts link (respond.yaml <c>linking:</c>): AD and Entra always by the sync anchors (objectSid =
/// onPremisesSecurityIdentifier, objectGUID or ms-DS-ConsistencyGuid = base64 onPremisesImmutableId); an Okta account by
/// the attributes listed here, each compared exactly; none by default.
/// </summary>
public sealed record LinkOptions(ImmutableArray<LinkAttribute> OktaMatch)
{
    public static LinkOptions Default { get; } = new(ImmutableArray<LinkAttribute>.Empty);
}

/// <summary>Two accounts of different providers that are the same person, and the equal values that say so.</summary>
public sealed record AccountLink(Identity Account, string Evidence);

/// <summary>A provider where the person's account could not be decided: two candidates, or anchors that disagree.</summary>
public sealed record LinkRefusal(Provider Provider, string Reason);

/// <summary>
/// One person: the account a finding names, the accounts linked to it in other providers (each with its evidence), and
/// the providers where a link was refused (never a guess).
/// </summary>
public sealed record Person(Identity Subject, ImmutableArray<AccountLink> Linked, ImmutableArray<LinkRefusal> Refusals)
{
    public static Person Alone(Identity subject) => new(subject, [], []);

    /// <summary>Every account of the person, the subject first.</summary>
    public IEnumerable<Identity> Accounts => Linked.Select(l => l.Account).Prepend(Subject);

    public AccountLink? In(Provider provider) => Linked.FirstOrDefault(l => l.Account.Provider == provider);

    public LinkRefusal? RefusedIn(Provider provider) => Refusals.FirstOrDefault(r => r.Provider == provider);

    /// <summary>One line: "alice (ad) = alice@corp.example.com (entra: objectSid … = onPremisesSecurityIdentifier)".</summary>
    public string Describe() =>
        string.Join("; ", Linked.Select(l => $"{l.Account.Display} ({l.Account.Provider.Name()}: {l.Evidence})")
            .Concat(Refusals.Select(r => $"{r.Provider.Name()} refused: {r.Reason}")));
}

/// <summary>Finds the person an account belongs to.</summary>
public interface IAccountLinker
{
    Person Link(Identity subject);
}

/// <summary>
/// Links accounts across providers by exact equality only. A link between a and b holds when b is the only account of
/// its provider that matches a, a is the only account of its provider that matches b, and no compared anchor differs
/// (a matching SID with a different immutable id is a conflict, refused). So links are symmetric and never a guess.
/// From the subject, links are followed to the accounts they reach (an Entra account reaches Okta through its AD
/// account); two different accounts reached in one provider refuse that provider.
/// </summary>
public sealed class IdentityLinker : IAccountLinker
{
    private readonly LinkOptions _options;
    private readonly Dictionary<Provider, List<Identity>> _byProvider = [];
    private readonly Dictionary<string, List<Identity>> _index = new(StringComparer.Ordinal);

    public IdentityLinker(IEnumerable<Identity> accounts, LinkOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(accounts);
        _options = options ?? LinkOptions.Default;
        foreach (var account in accounts)
        {
            if (!_byProvider.TryGetValue(account.Provider, out var list)) _byProvider[account.Provider] = list = [];
            list.Add(account);
            foreach (var key in Keys(account))
            {
                if (!_index.TryGetValue(key, out var hits)) _index[key] = hits = [];
                hits.Add(account);
            }
        }
    }

    public Person Link(Identity subject)
    {
        ArgumentNullException.ThrowIfNull(subject);
        var found = new Dictionary<Provider, AccountLink>();
        var refused = new Dictionary<Provider, string>();
        var queue = new Queue<Identity>([subject]);
        while (queue.Count > 0)
        {
            var from = queue.Dequeue();
            foreach (var provider in Providers.All)
            {
                if (provider == subject.Provider || provider == from.Provider || refused.ContainsKey(provider)) continue;
                var (link, problem) = Direct(from, provider);
                if (problem is not null)
                {
                    found.Remove(provider);
                    refused[provider] = from == subject ? problem : $"from {from.Display} ({from.Provider.Name()}): {problem}";
                    continue;
                }

                if (link is null) continue;
                if (found.TryGetValue(provider, out var earlier))
                {
                    if (!SameAccount(earlier.Account, link.Account))
                    {
                        found.Remove(provider);
                        refused[provider] = $"the person's accounts disagree: {earlier.Account.Display} ({earlier.Evidence}) and {link.Account.Display} from {from.Display} ({link.Evidence})";
                    }

                    continue;
                }

                found[provider] = from == subject ? link : link with { Evidence = $"{link.Evidence}, via {from.Display} ({from.Provider.Name()})" };
                queue.Enqueue(link.Account);
            }
        }

        return new Person(subject,
            [.. found.Values.OrderBy(l => l.Account.Provider)],
            [.. refused.OrderBy(r => r.Key).Select(r => new LinkRefusal(r.Key, r.Value))]);
    }

    /// <summary>
    /// The one account of <paramref name="provider"/> linked to <paramref name="from"/>, null when none, or the reason a
    /// link is refused (several candidates, a conflict, or a candidate that itself matches several accounts).
    /// </summary>
    public (AccountLink? Link, string? Problem) Direct(Identity from, Provider provider)
    {
        ArgumentNullException.ThrowIfNull(from);
        var (candidates, conflict) = Candidates(from, provider);
        if (conflict is not null) return (null, conflict);
        if (candidates.Count == 0) return (null, null);
        if (candidates.Count > 1)
        {
            return (null, $"{candidates.Count} {provider.Name()} accounts match {from.Display}: "
                + string.Join(", ", candidates.Select(c => $"{c.Account.Display} ({c.Evidence})")) + "; refusing to guess");
        }

        var only = candidates[0];
        var (back, backConflict) = Candidates(only.Account, from.Provider);
        if (backConflict is not null) return (null, backConflict);
        if (back.Count != 1 || !SameAccount(back[0].Account, from))
        {
            return (null, $"{only.Account.Display} ({provider.Name()}) matches {back.Count} {from.Provider.Name()} accounts: "
                + string.Join(", ", back.Select(c => $"{c.Account.Display} ({c.Evidence})")) + "; refusing to guess");
        }

        return (only, null);
    }

    private (List<AccountLink> Candidates, string? Conflict) Candidates(Identity from, Provider provider)
    {
        var seen = new HashSet<Identity>(ReferenceEqualityComparer.Instance);
        var candidates = new List<AccountLink>();
        foreach (var key in Keys(from))
        {
            if (!_index.TryGetValue(key, out var hits)) continue;
            foreach (var other in hits)
            {
                if (other.Provider != provider || !seen.Add(other)) continue;
                var (equal, differ) = Compare(from, other, _options);
                if (equal.Count == 0) continue;
                if (differ.Count > 0)
                {
                    return ([], $"conflicting link between {from.Display} ({from.Provider.Name()}) and {other.Display} ({provider.Name()}): "
                        + $"{string.Join(", ", equal)} but {string.Join(", ", differ)}; refusing to link");
                }

                candidates.Add(new AccountLink(other, string.Join(", ", equal)));
            }
        }

        return (candidates, null);
    }

    private static bool SameAccount(Identity a, Identity b) =>
        a.Provider == b.Provider && string.Equals(a.Id, b.Id, StringComparison.OrdinalIgnoreCase);

    /// <summary>Index keys: every value some comparison could find equal, tagged so only comparable values meet.</summary>
    private IEnumerable<string> Keys(Identity account)
    {
        if (Sid(account) is { } sid) yield return "sid:" + sid;
        if (Anchor(account) is { } anchor) yield return "anchor:" + anchor.ToString("D");
        foreach (var attribute in _options.OktaMatch)
        {
            if (Value(account, attribute) is { } value) yield return $"{attribute.Name()}:{Fold(attribute, value)}";
        }
    }

    /// <summary>
    /// The compared values that are equal and those that differ, each as evidence text. AD and Entra compare the sync
    /// anchors; a pair with Okta compares the configured attributes. Only values both accounts have are compared.
    /// </summary>
    public static (List<string> Equal, List<string> Differ) Compare(Identity a, Identity b, LinkOptions options)
    {
        ArgumentNullException.ThrowIfNull(a);
        ArgumentNullException.ThrowIfNull(b);
        ArgumentNullException.ThrowIfNull(options);
        var equal = new List<string>();
        var differ = new List<string>();
        if (a.Provider == b.Provider) return (equal, differ);
        if (a.Provider != Provider.Okta && b.Provider != Provider.Okta)
        {
            var (ad, entra) = a.Provider == Provider.Ad ? (a, b) : (b, a);
            if (Sid(ad) is { } adSid && Sid(entra) is { } entraSid)
            {
                (adSid == entraSid ? equal : differ).Add(adSid == entraSid
                    ? $"objectSid {adSid} = onPremisesSecurityIdentifier"
                    : $"objectSid {adSid} ≠ onPremisesSecurityIdentifier {entraSid}");
            }

            if (Anchor(ad) is { } adAnchor && Anchor(entra) is { } entraAnchor)
            {
                var what = ad.ConsistencyGuid is null ? "objectGUID" : "ms-DS-ConsistencyGuid";
                (adAnchor == entraAnchor ? equal : differ).Add(adAnchor == entraAnchor
                    ? $"{what} {adAnchor:D} = onPremisesImmutableId {entra.OnPremisesImmutableId}"
                    : $"{what} {adAnchor:D} ≠ onPremisesImmutableId {entra.OnPremisesImmutableId}");
            }

            return (equal, differ);
        }

        var (okta, other) = a.Provider == Provider.Okta ? (a, b) : (b, a);
        foreach (var attribute in options.OktaMatch)
        {
            if (Value(okta, attribute) is not { } left || Value(other, attribute) is not { } right) continue;
            var same = string.Equals(Fold(attribute, left), Fold(attribute, right), StringComparison.Ordinal);
            var name = attribute switch
            {
                LinkAttribute.Login => ("Okta login", other.Provider == Provider.Ad ? "AD userPrincipalName" : "Entra userPrincipalName"),
                LinkAttribute.Email => ("Okta email", $"{(other.Provider == Provider.Ad ? "AD mail" : "Entra mail")}"),
                _ => ("Okta employeeNumber", other.Provider == Provider.Ad ? "AD employeeID" : "Entra employeeId"),
            };
            (same ? equal : differ).Add(same ? $"{name.Item1} {left} = {name.Item2}" : $"{name.Item1} {left} ≠ {name.Item2} {right}");
        }

        return (equal, differ);
    }

    /// <summary>The SID an account is known by: an AD account's objectSid, an Entra account's onPremisesSecurityIdentifier.</summary>
    private static string? Sid(Identity account) => account.Provider switch
    {
        Provider.Ad => Sids.Normalize(account.Sid),
        Provider.Entra => Sids.Normalize(account.OnPremisesSid),
        _ => null,
    };

    /// <summary>
    /// The sync anchor as a GUID: an AD account's ms-DS-ConsistencyGuid when set, else its objectGUID (the snapshot and
    /// connector id); an Entra account's onPremisesImmutableId decoded from base64 (the GUID's 16 bytes as LDAP stores them).
    /// </summary>
    private static Guid? Anchor(Identity account) => account.Provider switch
    {
        Provider.Ad => Guid.TryParse(account.ConsistencyGuid ?? account.Id, out var guid) ? guid : null,
        Provider.Entra => ImmutableIds.ToGuid(account.OnPremisesImmutableId),
        _ => null,
    };

    private static string? Value(Identity account, LinkAttribute attribute) => attribute switch
    {
        LinkAttribute.Login => account.Provider == Provider.Okta ? account.Name : account.Upn,
        LinkAttribute.Email => account.Email,
        _ => account.EmployeeId,
    } is { Length: > 0 } value ? value : null;

    private static string Fold(LinkAttribute attribute, string value) =>
        attribute == LinkAttribute.EmployeeId ? value : value.ToUpperInvariant();
}

/// <summary>Entra onPremisesImmutableId: by default the base64 of the AD objectGUID's 16 bytes (as LDAP stores them).</summary>
public static class ImmutableIds
{
    public static Guid? ToGuid(string? immutableId)
    {
        if (string.IsNullOrEmpty(immutableId)) return null;
        Span<byte> bytes = stackalloc byte[18];
        return Convert.TryFromBase64String(immutableId, bytes, out var written) && written == 16 ? new Guid(bytes[..16]) : null;
    }

    public static string FromGuid(Guid guid) => Convert.ToBase64String(guid.ToByteArray());
}
