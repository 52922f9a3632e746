using System.Text;
using CsCheck;
using ResponseEngine.Connectors.ActiveDirectory.Ldap;
using ResponseEngine.Connectors.Okta;
using ResponseEngine.Findings;
using ResponseEngine.Identities;
using ResponseEngine.TestKit;
using ResponseEngine.TestKit.Okta;

namespace ResponseEngine.Reliability.Tests.HostileInput;

/// <summary>
/// Injection corpus plus generated strings against the places where a name from a finding becomes syntax: LDAP filter
/// values (RFC 4515), DN values (RFC 4514), and Okta's search filter and URL path segments. (Live against Samba:
/// AdLiveTests.Resolve_FilterInjection_AffectsNobody in the AD connector's tests.)
/// </summary>
public sealed class InjectionTests
{
    private static readonly string[] Corpus =
    [
        "*", "*)(objectClass=*", "admin)(|(cn=*", "x)(&", "\\2a", "\\", "\0", "(", ")", "a*b", "*)(uid=*))(|(uid=*",
        "cn=admin,dc=corp", "a,b", "a+b", "a;b", "a=b", "\"quoted\"", "<tag>", "#hash", " leading", "trailing ", "a\nb", "é", "\U0001F600",
        "../../api/v1/users", "a/b", "a?b=c", "a#b", "a%2Fb", "a%00", "x\" or profile.login sw \"", "\\\" or 1 eq 1", "a b", "+1@x.com",
        "' or 1=1 --", "${jndi:ldap://x}", "%s%s%n", new string('a', 2000),
    ];

    private static Gen<string> Hostile => Gen.Frequency(
        (1, Gen.Int[0, Corpus.Length - 1].Select(i => Corpus[i])),
        (3, Gen.String[Gen.Char["\0\\*()=,+;\"<>#/?%& \t\n'.@aZ9é"], 0, 40]),
        (1, Gen.String[Gen.Char.Where(c => !char.IsSurrogate(c)), 0, 60]));

    [Fact]
    public void LdapFilterValue_AnyInput_StaysOneEqualityAssertion()
    {
        var tried = 0;
        Hostile.Sample(value =>
        {
            tried++;
            var escaped = LdapEscape.FilterValue(value);
            escaped.Should().NotContainAny(["(", ")", "*", "\0"], $"'{value}' → '{escaped}'");
            for (var i = escaped.IndexOf('\\', StringComparison.Ordinal); i >= 0; i = escaped.IndexOf('\\', i + 1))
            {
                escaped.Length.Should().BeGreaterThanOrEqualTo(i + 3, $"every backslash starts a \\XX escape: '{escaped}'");
                Uri.IsHexDigit(escaped[i + 1]).Should().BeTrue(escaped);
                Uri.IsHexDigit(escaped[i + 2]).Should().BeTrue(escaped);
            }

            UnescapeFilter(escaped).Should().Be(value, "escaping loses nothing");
        }, iter: Reliability.Inputs(5000), threads: 1);
        Reliability.Record("injection", $"ldap filter values={tried} escapes-broken=0");
    }

    [Fact]
    public void LdapDnValue_AnyInput_StaysOneRdnValue()
    {
        var tried = 0;
        Hostile.Sample(value =>
        {
            tried++;
            var rdn = LdapEscape.Rdn("CN", value);
            // Outside escapes, no character that ends the value or starts another component.
            var unescaped = new StringBuilder();
            for (var i = 3; i < rdn.Length; i++)
            {
                if (rdn[i] == '\\')
                {
                    i++;
                    continue;
                }

                unescaped.Append(rdn[i]);
            }

            unescaped.ToString().Should().NotContainAny([",", "+", ";", "\"", "<", ">", "=", "\0"], $"'{value}' → '{rdn}'");
            if (value.Length > 0)
            {
                rdn[3].Should().NotBe('#', rdn);
                rdn[3].Should().NotBe(' ', rdn);
                (rdn.EndsWith(' ') && !rdn.EndsWith("\\ ", StringComparison.Ordinal)).Should().BeFalse(rdn);
            }
        }, iter: Reliability.Inputs(5000), threads: 1);
        Reliability.Record("injection", $"ldap dn values={tried} escapes-broken=0");
    }

    [Fact]
    public async Task OktaResolve_HostileNames_FindExactlyThatUserOrNobody()
    {
        var clock = new DrivenClock(new DateTimeOffset(2026, 11, 26, 8, 0, 0, TimeSpan.Zero));
        var org = new OktaEmulator(clock);
        org.AddUser("00uvictim", "victim@corp.example.com");
        org.AddUser("00uadmin", "admin@corp.example.com").Roles.Add("SUPER_ADMIN");
        using var http = org.CreateClient();
        using var okta = OktaConnector.Create(new OktaOptions { BaseUrl = org.BaseUrl, ApiToken = org.ApiToken, RequestTimeout = null }, PrivilegedPolicy.Default, clock, http);
        var names = Hostile.Array[Reliability.Inputs(300)].Single().Concat(Corpus).Where(n => n.Length > 0).Distinct().ToList();
        var hostileUsers = names.Take(60).Select((n, i) => (Id: $"00uh{i}", Login: n)).ToList();
        foreach (var (id, login) in hostileUsers) org.AddUser(id, login);

        var wrong = new List<string>();
        foreach (var name in names)
        {
            var lookup = await clock.RunAsync(() => okta.ResolveAsync(new Subject(Provider.Okta, null, name), CancellationToken.None), TimeSpan.FromHours(1));
            var owner = org.Users.Values.Where(u => string.Equals(u.Login, name, StringComparison.OrdinalIgnoreCase)
                || string.Equals(u.Email, name, StringComparison.OrdinalIgnoreCase)).Select(u => u.Id).ToList();
            if (lookup.Identity is { } identity && !owner.Contains(identity.Id))
            {
                // The emulator, like Okta, also finds a user by the short name before '@'; anything else is an injection.
                var shortName = org.Users.Values.Where(u => string.Equals(u.Login.Split('@')[0], name, StringComparison.OrdinalIgnoreCase)).Select(u => u.Id).ToList();
                if (!(shortName.Count == 1 && shortName[0] == identity.Id)) wrong.Add($"'{name}' resolved to {identity.Id}");
            }

            if (owner.Count == 1 && lookup.Identity?.Id != owner[0]) wrong.Add($"'{name}' did not find its owner {owner[0]}: {lookup.Problem}");
        }

        wrong.Should().BeEmpty();
        org.Requests.Should().OnlyContain(r => r.Status != 400 || r.RawPath.StartsWith("/api/v1/users", StringComparison.Ordinal), "no malformed request");
        Reliability.Record("injection", $"okta names={names.Count} requests={org.Requests.Count} wrong-user=0");
    }

    private static string UnescapeFilter(string escaped)
    {
        var bytes = new List<byte>();
        var run = new StringBuilder();
        for (var i = 0; i < escaped.Length; i++)
        {
            if (escaped[i] == '\\')
            {
                bytes.AddRange(Encoding.UTF8.GetBytes(run.ToString()));
                run.Clear();
                bytes.Add(Convert.ToByte(escaped.Substring(i + 1, 2), 16));
                i += 2;
            }
            else
            {
                run.Append(escaped[i]);
            }
        }

        bytes.AddRange(Encoding.UTF8.GetBytes(run.ToString()));
        return Encoding.UTF8.GetString([.. bytes]);
    }
}
