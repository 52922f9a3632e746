using System.DirectoryServices.Protocols;
using System.Globalization;
using System.Net;
using System.Text;
using ResponseEngine.TestKit.ActiveDirectory;

[assembly: AssemblyFixture(typeof(ResponseEngine.Service.Tests.ServeSambaDc))]

namespace ResponseEngine.Service.Tests;

/// <summary>
/// The serve tests' own Samba AD DC, on 127.0.0.6 unless RESPOND_TEST_SAMBA_IP moves it: the AD connector tests' DC holds
/// 127.0.0.1 and its fixed ports, and the two test assemblies run side by side in a full run.
/// </summary>
public sealed class ServeSambaDc() : SambaDc("127.0.0.6");

/// <summary>
/// An OU of the Samba DC seeded over LDAPS as Administrator, and read back the same way: what the directory really holds,
/// not what the connector under test says. Disposing deletes the OU with everything in it.
/// </summary>
public sealed class SambaOu : IDisposable
{
    private readonly LdapConnection _admin;

    private SambaOu(SambaDc dc, string dn)
    {
        Dc = dc;
        Dn = dn;
        _admin = dc.Connect();
        Add(dn, ("objectClass", "organizationalUnit"));
    }

    public SambaDc Dc { get; }

    public string Dn { get; }

    /// <summary>Starts the DC if needed, skipping the test where Samba cannot run (failing it under CI=true); then makes a fresh OU.</summary>
    public static async Task<SambaOu> CreateAsync(SambaDc dc, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(dc);
        await dc.RequireAsync(cancellationToken);
        return new SambaOu(dc, $"OU=serve{Guid.NewGuid():N}"[..19] + "," + SambaDc.BaseDn);
    }

    public string AddUser(string name)
    {
        var dn = $"CN={name},{Dn}";
        Add(dn, ("objectClass", "user"), ("sAMAccountName", name), ("userPrincipalName", $"{name}@corp.example.com"),
            ("unicodePwd", Encoding.Unicode.GetBytes("\"Seed!Passw0rd-42\"")), ("userAccountControl", "512"));
        return dn;
    }

    public string AddGroup(string name, params string[] members)
    {
        var dn = $"CN={name},{Dn}";
        Add(dn, ("objectClass", "group"), ("sAMAccountName", name));
        foreach (var member in members) _admin.SendRequest(new ModifyRequest(dn, DirectoryAttributeOperation.Add, "member", member));
        return dn;
    }

    public IReadOnlyList<string> Values(string dn, string attribute)
    {
        var entry = ((SearchResponse)_admin.SendRequest(new SearchRequest(dn, "(objectClass=*)", SearchScope.Base, attribute))).Entries[0];
        return entry.Attributes[attribute] is { } values ? [.. values.GetValues(typeof(string)).Cast<string>()] : [];
    }

    /// <summary>A binary attribute as the DC stores it (objectSid, objectGUID).</summary>
    public byte[] Bytes(string dn, string attribute)
    {
        var entry = ((SearchResponse)_admin.SendRequest(new SearchRequest(dn, "(objectClass=*)", SearchScope.Base, attribute))).Entries[0];
        return (byte[])entry.Attributes[attribute].GetValues(typeof(byte[]))[0];
    }

    public bool Disabled(string userDn) => (int.Parse(Values(userDn, "userAccountControl")[0], CultureInfo.InvariantCulture) & 2) != 0;

    public void Dispose()
    {
        var response = (SearchResponse)_admin.SendRequest(new SearchRequest(Dn, "(objectClass=*)", SearchScope.Subtree, "distinguishedName"));
        foreach (var dn in response.Entries.Cast<SearchResultEntry>().Select(e => e.DistinguishedName).OrderByDescending(d => d.Length))
        {
            _admin.SendRequest(new DeleteRequest(dn));
        }

        _admin.Dispose();
    }

    private void Add(string dn, params (string Name, object Value)[] attributes)
    {
        var request = new AddRequest(dn);
        foreach (var (name, value) in attributes)
        {
            request.Attributes.Add(value is byte[] bytes ? new DirectoryAttribute(name, bytes) : new DirectoryAttribute(name, (string)value));
        }

        _admin.SendRequest(request);
    }
}
