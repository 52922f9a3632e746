using System.DirectoryServices.Protocols;

namespace ResponseEngine.TestKit.ActiveDirectory;

/// <summary>
/// The enabled holders of an AD group counted the slow, independent way a test can trust: every <c>member</c> value read
/// object by object and followed into nested groups (cycles stopped), plus every account whose primaryGroupID is the RID
/// of a group on the way. It uses neither the connector nor LDAP_MATCHING_RULE_IN_CHAIN, so it checks both.
/// </summary>
public static class LiveCount
{
    private const int AccountDisable = 0x2;

    /// <summary>DNs of the enabled user accounts holding <paramref name="groupDn"/> through any path.</summary>
    public static List<string> EnabledHolders(LdapConnection connection, string groupDn, string? domainDn = null)
    {
        ArgumentNullException.ThrowIfNull(connection);
        ArgumentException.ThrowIfNullOrEmpty(groupDn);
        domainDn ??= groupDn[groupDn.IndexOf("DC=", StringComparison.OrdinalIgnoreCase)..];
        var users = new HashSet<string>(StringComparer.OrdinalIgnoreCase);
        var groups = new HashSet<string>(StringComparer.OrdinalIgnoreCase) { groupDn };
        var queue = new Queue<string>([groupDn]);
        var rids = new List<uint>();
        while (queue.Count > 0)
        {
            var group = Read(connection, queue.Dequeue(), "member", "objectSid");
            if (group is null) continue;
            if (Bytes(group, "objectSid") is { Length: >= 8 } sid) rids.Add(BitConverter.ToUInt32(sid, sid.Length - 4));
            foreach (var member in Texts(group, "member"))
            {
                var entry = Read(connection, member, "objectClass", "userAccountControl");
                if (entry is null) continue;
                var classes = Texts(entry, "objectClass");
                if (classes.Contains("group", StringComparer.OrdinalIgnoreCase))
                {
                    if (groups.Add(member)) queue.Enqueue(member);
                }
                else if (classes.Contains("user", StringComparer.OrdinalIgnoreCase) && !classes.Contains("computer", StringComparer.OrdinalIgnoreCase))
                {
                    if (Enabled(entry)) users.Add(member);
                }
            }
        }

        foreach (var rid in rids.Distinct())
        {
            var filter = $"(&(objectCategory=person)(objectClass=user)(primaryGroupID={rid}))";
            var response = (SearchResponse)connection.SendRequest(new SearchRequest(domainDn, filter, SearchScope.Subtree, "userAccountControl"));
            foreach (SearchResultEntry entry in response.Entries)
            {
                if (Enabled(entry)) users.Add(entry.DistinguishedName);
            }
        }

        return [.. users.Order(StringComparer.OrdinalIgnoreCase)];
    }

    private static bool Enabled(SearchResultEntry entry) =>
        int.TryParse(Texts(entry, "userAccountControl").FirstOrDefault(), System.Globalization.CultureInfo.InvariantCulture, out var uac) && (uac & AccountDisable) == 0;

    private static SearchResultEntry? Read(LdapConnection connection, string dn, params string[] attributes)
    {
        try
        {
            var response = (SearchResponse)connection.SendRequest(new SearchRequest(dn, "(objectClass=*)", SearchScope.Base, attributes));
            return response.Entries.Count == 1 ? response.Entries[0] : null;
        }
        catch (DirectoryOperationException e) when (e.Response?.ResultCode == ResultCode.NoSuchObject)
        {
            return null;
        }
    }

    private static List<string> Texts(SearchResultEntry entry, string name) =>
        entry.Attributes.Contains(name) ? [.. entry.Attributes[name].GetValues(typeof(string)).Cast<string>()] : [];

    private static byte[]? Bytes(SearchResultEntry entry, string name) =>
        entry.Attributes.Contains(name) && entry.Attributes[name].Count > 0 ? entry.Attributes[name].GetValues(typeof(byte[]))[0] as byte[] : null;
}
