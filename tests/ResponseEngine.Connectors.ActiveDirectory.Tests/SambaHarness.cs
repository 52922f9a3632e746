using System.Collections.Immutable;
using System.DirectoryServices.Protocols;
using System.Net;
using System.Text;
using ResponseEngine.Connectors.ActiveDirectory.Ldap;
using ResponseEngine.Execution;
using ResponseEngine.Findings;
using ResponseEngine.Identities;
using ResponseEngine.TestKit;
using ResponseEngine.TestKit.ActiveDirectory;
using ResponseEngine.TestKit.Connectors;

namespace ResponseEngine.Connectors.ActiveDirectory.Tests;

/// <summary>
/// A contract directory seeded into its own OU of the Samba DC over LDAP as Administrator; the connector under test sees
/// only that OU. Disposing deletes the OU with everything in it.
/// </summary>
public sealed class SambaHarness : ConnectorHarness
{
    public const string SeedPassword = "Seed!Passw0rd-42";

    private readonly TempDirectory _secrets = new();

    private SambaHarness(SambaDc dc, string ou)
    {
        Dc = dc;
        Ou = ou;
        Admin = dc.Connect();
        PasswordFile = _secrets.Write("ad-password", SambaDc.AdminPassword + "\n");
        AdConnector = Create(BaseDn: ou);
    }

    public SambaDc Dc { get; }

    public string Ou { get; }

    public LdapConnection Admin { get; }

    public string PasswordFile { get; }

    /// <summary>Real time: the DC's own clock stamps changes, and retries of a real failure must really wait.</summary>
    public TimeProvider Time { get; } = TimeProvider.System;

    public AdConnector AdConnector { get; }

    public override IConnector Connector => AdConnector;

    public List<string> Warnings { get; } = [];

    public static async Task<SambaHarness> StartAsync(SambaDc dc, ContractDirectory? seed, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(dc);
        await dc.RequireAsync(cancellationToken);
        var ou = $"OU=t{Guid.NewGuid():N}"[..16] + "," + SambaDc.BaseDn;
        var harness = new SambaHarness(dc, ou);
        harness.Add(ou, ("objectClass", "organizationalUnit"));
        if (seed is not null) harness.Seed(seed);
        return harness;
    }

    /// <summary>Options pointing at the fixture's DC; tests change what they exercise.</summary>
    public AdConnectorOptions Options(string? BaseDn = null) => new()
    {
        Server = Dc.Host,
        Port = Dc.Port,
        BaseDn = BaseDn ?? Ou,
        BindDn = SambaDc.AdminUpn,
        PasswordFile = PasswordFile,
        CaBundle = Dc.CaFile,
        Timeout = TimeSpan.FromSeconds(20),
        Retry = new AdRetryOptions { MaxAttempts = 2, BaseDelay = TimeSpan.FromMilliseconds(200) },
    };

    public AdConnector Create(string? BaseDn = null, AdConnectorOptions? options = null, PrivilegedPolicy? policy = null) =>
        ActiveDirectory.AdConnector.Create(options ?? Options(BaseDn), policy ?? PrivilegedPolicy.Default, Time, Warnings.Add);

    public string UserDn(string cn) => $"{LdapEscape.Rdn("CN", cn)},{Ou}";

    public string GroupDn(string cn) => $"{LdapEscape.Rdn("CN", cn)},{Ou}";

    public string AddUser(string name, bool enabled = true, string? upn = null, string? mail = null, string? cn = null, int extraFlags = 0)
    {
        var dn = UserDn(cn ?? name);
        var attributes = new List<(string, object)>
        {
            ("objectClass", "user"),
            ("sAMAccountName", name),
            ("userPrincipalName", upn ?? $"{name}@corp.example.com"),
            ("displayName", char.ToUpperInvariant(name[0]) + name[1..]),
            ("unicodePwd", Encoding.Unicode.GetBytes("\"" + SeedPassword + "\"")),
            ("userAccountControl", ((enabled ? 512 : 514) | extraFlags).ToString(System.Globalization.CultureInfo.InvariantCulture)),
        };
        if (mail is not null) attributes.Add(("mail", mail));
        Add(dn, [.. attributes]);
        return dn;
    }

    public string AddGroup(string name, string? cn = null)
    {
        var dn = GroupDn(cn ?? name);
        Add(dn, ("objectClass", "group"), ("sAMAccountName", name));
        return dn;
    }

    public void AddMember(string groupDn, string memberDn) =>
        Admin.SendRequest(new ModifyRequest(groupDn, DirectoryAttributeOperation.Add, "member", memberDn));

    public void Replace(string dn, string attribute, string value) =>
        Admin.SendRequest(new ModifyRequest(dn, DirectoryAttributeOperation.Replace, attribute, value));

    public SearchResultEntry Read(string dn, params string[] attributes) =>
        ((SearchResponse)Admin.SendRequest(new SearchRequest(dn, "(objectClass=*)", SearchScope.Base, attributes))).Entries[0];

    public string? Attribute(string dn, string attribute) =>
        Read(dn, attribute).Attributes[attribute] is { Count: > 0 } values ? (string)values.GetValues(typeof(string))[0] : null;

    public ImmutableArray<string> Attributes(string dn, string attribute) =>
        Read(dn, attribute).Attributes[attribute] is { } values ? [.. values.GetValues(typeof(string)).Cast<string>()] : [];

    /// <summary>Whether a simple bind with this password succeeds (true) or is refused with 49 (false).</summary>
    public bool CanBind(string user, string password)
    {
        try
        {
            using var connection = Dc.Connect(user, password);
            return true;
        }
        catch (LdapException e) when (e.ErrorCode == 49)
        {
            return false;
        }
    }

    /// <summary>Straight from LDAP as Administrator, not through the connector: what the contract compares.</summary>
    public override Task<Identity?> InspectAsync(string userId, CancellationToken cancellationToken)
    {
        if (!Guid.TryParse(userId, out var guid)) return Task.FromResult<Identity?>(null);
        var filter = $"(&(objectClass=user)(objectGUID={LdapEscape.FilterBytes(guid.ToByteArray())}))";
        var response = (SearchResponse)Admin.SendRequest(new SearchRequest(SambaDc.BaseDn, filter, SearchScope.Subtree, "sAMAccountName", "userAccountControl", "pwdLastSet", "memberOf"));
        if (response.Entries.Count == 0) return Task.FromResult<Identity?>(null);
        var entry = response.Entries[0];
        string Text(string name) => (string)entry.Attributes[name].GetValues(typeof(string))[0];
        var groups = entry.Attributes.Contains("memberOf")
            ? entry.Attributes["memberOf"].GetValues(typeof(string)).Cast<string>().Select(dn => Attribute(dn, "sAMAccountName")!).ToList()
            : [];
        return Task.FromResult<Identity?>(new Identity(Provider.Ad, userId, Text("sAMAccountName"))
        {
            Enabled = (int.Parse(Text("userAccountControl"), System.Globalization.CultureInfo.InvariantCulture) & 2) == 0,
            PasswordMustChange = Text("pwdLastSet") == "0",
            Groups = [.. groups.Select(g => new Group(Provider.Ad, g, g))],
        });
    }

    public override async ValueTask DisposeAsync()
    {
        AdConnector.Dispose();
        ResetPrimaryGroups();
        DeleteTree(Ou);
        Admin.Dispose();
        _secrets.Dispose();
        await base.DisposeAsync();
    }

    private void Seed(ContractDirectory seed)
    {
        var groupDns = seed.Groups.ToDictionary(g => g.Name, g => AddGroup(g.Name), StringComparer.OrdinalIgnoreCase);
        foreach (var group in seed.Groups)
        {
            foreach (var parent in group.MemberOf) AddMember(groupDns[parent], groupDns[group.Name]);
        }

        foreach (var user in seed.Users)
        {
            var dn = AddUser(user.Name, user.Enabled, user.Upn, user.Email);
            foreach (var group in user.Groups) AddMember(groupDns[group], dn);
            if (user.PasswordMustChange) Replace(dn, "pwdLastSet", "0");
            if (user.PrimaryGroup is { } primary)
            {
                // AD's order: a member first, then primaryGroupID (the DC drops the member link itself).
                if (!user.Groups.Contains(primary, StringComparer.OrdinalIgnoreCase)) AddMember(groupDns[primary], dn);
                Replace(dn, "primaryGroupID", RidOf(groupDns[primary]).ToString(System.Globalization.CultureInfo.InvariantCulture));
            }
        }
    }

    /// <summary>The relative id at the end of a group's objectSid.</summary>
    public uint RidOf(string groupDn)
    {
        var sid = (byte[])Read(groupDn, "objectSid").Attributes["objectSid"].GetValues(typeof(byte[]))[0];
        return BitConverter.ToUInt32(sid, sid.Length - 4);
    }

    private void Add(string dn, params (string Name, object Value)[] attributes)
    {
        var request = new AddRequest(dn);
        foreach (var (name, value) in attributes)
        {
            request.Attributes.Add(value is byte[] bytes ? new DirectoryAttribute(name, bytes) : new DirectoryAttribute(name, (string)value));
        }

        Admin.SendRequest(request);
    }

    /// <summary>A group that is someone's primary group cannot be deleted: every account under the OU goes back to Domain Users first.</summary>
    private void ResetPrimaryGroups()
    {
        try
        {
            var response = (SearchResponse)Admin.SendRequest(new SearchRequest(Ou, "(&(objectClass=user)(!(primaryGroupID=513)))", SearchScope.Subtree, "1.1"));
            foreach (var entry in response.Entries.Cast<SearchResultEntry>())
            {
                const string domainUsers = "CN=Domain Users,CN=Users," + SambaDc.BaseDn;
                var members = Attributes(domainUsers, "member");
                if (!members.Contains(entry.DistinguishedName, StringComparer.OrdinalIgnoreCase)) AddMember(domainUsers, entry.DistinguishedName);
                Replace(entry.DistinguishedName, "primaryGroupID", "513");
            }
        }
        catch (DirectoryOperationException)
        {
            // Best effort, as the deletion below.
        }
    }

    private void DeleteTree(string dn)
    {
        try
        {
            var response = (SearchResponse)Admin.SendRequest(new SearchRequest(dn, "(objectClass=*)", SearchScope.Subtree, "1.1"));
            foreach (var entry in response.Entries.Cast<SearchResultEntry>().OrderByDescending(e => e.DistinguishedName.Length))
            {
                Admin.SendRequest(new DeleteRequest(entry.DistinguishedName));
            }
        }
        catch (DirectoryOperationException)
        {
            // Best effort: the next run provisions a fresh DC anyway.
        }
    }
}
