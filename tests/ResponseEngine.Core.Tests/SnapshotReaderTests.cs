using CsCheck;
using System.Text;
using ResponseEngine.Diagnostics;
using ResponseEngine.Findings;
using ResponseEngine.Identities;
using ResponseEngine.TestKit;

namespace ResponseEngine.Core.Tests;

public class SnapshotReaderTests
{
    private static SnapshotLoad Read(string json) => SnapshotReader.Read(Encoding.UTF8.GetBytes(json), "dir.json", PrivilegedPolicy.Default);

    [Fact]
    public void Read_NestedGroups_MakeMembersTransitivelyPrivileged()
    {
        var load = Read("""
            {
              "version": 1,
              "groups": [
                { "provider": "ad", "name": "Tier0 Operators", "member_of": ["Helpdesk Leads"] },
                { "provider": "ad", "name": "Helpdesk Leads", "member_of": ["Domain Admins"] }
              ],
              "users": [
                { "provider": "ad", "id": "1", "name": "carol", "groups": ["Tier0 Operators"] },
                { "provider": "ad", "id": "2", "name": "dave", "groups": ["Domain Users"] },
                { "provider": "entra", "id": "3", "name": "erin", "roles": ["Global Administrator"] },
                { "provider": "okta", "id": "4", "name": "frank@corp.example.com", "roles": ["SUPER_ADMIN"] }
              ]
            }
            """);

        load.Diagnostics.Should().BeEmpty();
        var snapshot = load.Snapshot!;
        var carol = snapshot.Resolve(new Subject(Provider.Ad, null, "CAROL")).Identity!;
        carol.Privileged.Should().BeTrue();
        carol.TransitiveGroups.Should().BeEquivalentTo(["Tier0 Operators", "Helpdesk Leads", "Domain Admins"]);
        snapshot.Resolve(new Subject(Provider.Ad, "2", null)).Identity!.Privileged.Should().BeFalse();
        var erin = snapshot.Resolve(new Subject(Provider.Entra, "3", null)).Identity!;
        erin.Privileged.Should().BeTrue();
        erin.GlobalAdmin.Should().BeTrue();
        snapshot.Resolve(new Subject(Provider.Okta, null, "frank@corp.example.com")).Identity!.Privileged.Should().BeTrue();
    }

    [Fact]
    public void Resolve_UnknownOrAmbiguousSubject_GivesAReasonNotAnIdentity()
    {
        var snapshot = Build.Directory(Build.User("alice"), Build.User("bob") with { Email = "shared@corp.example.com" },
            Build.User("bea") with { Email = "shared@corp.example.com" });

        snapshot.Resolve(new Subject(Provider.Ad, null, "nobody")).Problem.Should().Be("no ad account matches name 'nobody'");
        snapshot.Resolve(new Subject(Provider.Entra, null, "alice")).Identity.Should().BeNull("providers are separate directories");
        snapshot.Resolve(new Subject(Provider.Ad, null, "shared@corp.example.com")).Problem.Should().Contain("refusing to guess");
    }

    [Fact]
    public void Read_BadEntries_AreReportedWithTheirPositions()
    {
        var load = Read("""
            {
              "users": [
                { "provider": "ad", "id": "1", "name": "ok" },
                { "provider": "ldap", "id": "2", "name": "x" },
                { "provider": "ad", "name": "no-id" },
                { "provider": "ad", "id": "3", "name": "y", "enabeld": true },
                { "provider": "ad", "id": "1", "name": "dup" }
              ]
            }
            """);

        load.Snapshot.Should().BeNull();
        load.Diagnostics.Select(d => (d.Location.Line, d.Message)).Should().BeEquivalentTo(new[]
        {
            (4, "unknown provider 'ldap'"),
            (5, "missing field 'id'"),
            (6, "unknown field 'enabeld'"),
            (7, "duplicate ad user id '1'"),
        });
        load.Diagnostics.Single(d => d.Location.Line == 6).Location.Column.Should().Be(49);
    }

    [Fact]
    public void ReadFile_Missing_SaysHowToGetOne()
    {
        var load = SnapshotReader.ReadFile("/nonexistent/dir.json", PrivilegedPolicy.Default);

        load.Diagnostics.Should().ContainSingle(d => d.Code == DiagnosticCodes.DirectoryMissing && d.Hint!.Contains("--directory"));
    }

    [Fact]
    public void Read_InvalidJson_ReportsLineAndColumn()
    {
        var load = Read("{\n  \"users\": [\n    { \"provider\": \"ad\" \n  ]\n}");

        load.Diagnostics.Should().ContainSingle(d => d.Code == DiagnosticCodes.DirectoryMalformed && d.Location.Line == 4);
    }

    [Fact]
    public void SampleDirectory_LoadsAndMatchesItsSchema()
    {
        var load = SnapshotReader.ReadFile(RepoPaths.SampleDirectory, PrivilegedPolicy.Default);

        load.Diagnostics.Should().BeEmpty();
        var users = load.Snapshot!.Users;
        users.Length.Should().BeGreaterThanOrEqualTo(200);
        users.Select(u => u.Provider).Distinct().Should().BeEquivalentTo([Provider.Ad, Provider.Entra, Provider.Okta]);
        users.Should().Contain(u => u.Guest).And.Contain(u => u.Tags.Contains("break_glass")).And.Contain(u => u.Privileged);
        load.Snapshot.Groups.Should().Contain(g => g.Dynamic).And.Contain(g => g.Synced);
        SchemaValidator.Validate("directory", File.ReadAllText(RepoPaths.SampleDirectory)).Should().BeEmpty();
    }

    /// <summary>Values no reader may crash on, as raw bytes: lone surrogate escapes, invalid UTF-8, and every JSON type.</summary>
    private static readonly byte[][] Hostile =
    [
        "\"\\ud800\""u8.ToArray(), "\"a\\udc00b\""u8.ToArray(), [(byte)'"', 0xFF, 0xFE, (byte)'"'], [(byte)'"', 0xED, 0xA0, 0x80, (byte)'"'],
        "1"u8.ToArray(), "true"u8.ToArray(), "null"u8.ToArray(), "[1,\"x\"]"u8.ToArray(), "{}"u8.ToArray(), "\"\""u8.ToArray(), "\"\\u0000\""u8.ToArray(),
    ];

    private static readonly string[] UserFields = ["provider", "id", "name", "upn", "email", "display_name", "enabled", "guest", "groups", "roles", "tags",
        "password_must_change", "random_password_set_at", "sessions_revoked_at", "last_sign_in_at", "risk_state", "okta_status", "mfa_policies", "primary_group", "eligible_roles"];

    private static readonly string[] GroupFields = ["provider", "id", "name", "dynamic", "synced", "okta_type", "member_of", "roles", "role_assignable"];

    /// <summary>A snapshot whose one group (line 4) or user (line 6) has <paramref name="field"/> set to raw bytes.</summary>
    private static byte[] WithField(bool user, string field, byte[] value)
    {
        (string Name, string Json)[] fields = user
            ? [("provider", "\"ad\""), ("id", "\"u-1\""), ("name", "\"carol\""), ("groups", "[\"Staff\"]")]
            : [("provider", "\"ad\""), ("name", "\"Staff\"")];
        var kept = string.Concat(fields.Where(f => f.Name != field).Select(f => $"\"{f.Name}\": {f.Json}, "));
        var entry = Encoding.UTF8.GetBytes("{" + kept + $"\"{field}\": ").Concat(value).Concat("}"u8.ToArray()).ToArray();
        byte[] staff = [.. "{\"provider\": \"ad\", \"name\": \"Staff\"}"u8];
        byte[] dave = [.. "{\"provider\": \"ad\", \"id\": \"u-0\", \"name\": \"dave\"}"u8];
        return [.. "{\n  \"version\": 1,\n  \"groups\": [\n    "u8, .. (user ? staff : entry), .. "],\n  \"users\": [\n    "u8, .. (user ? entry : dave), .. "]\n}"u8];
    }

    [Fact]
    public void Read_HostileValueInEveryUserAndGroupField_DiagnosticOnItsLineNeverAnException()
    {
        var rejected = 0;
        foreach (var user in new[] { true, false })
        {
            foreach (var field in user ? UserFields : GroupFields)
            {
                for (var v = 0; v < Hostile.Length; v++)
                {
                    var bytes = WithField(user, field, Hostile[v]);
                    var load = SnapshotReader.Read(bytes, "dir.json", PrivilegedPolicy.Default);
                    var errors = load.Diagnostics.Where(d => d.IsError).ToList();
                    if (v < 4)
                    {
                        errors.Should().ContainSingle($"{field} = {Encoding.Latin1.GetString(Hostile[v])} is not text")
                            .Which.Should().Match<Diagnostic>(d => d.Location.File == "dir.json" && d.Location.Line == (user ? 6 : 4) && d.Location.Column > 1
                                && d.Message.Contains("not valid Unicode text", StringComparison.Ordinal));
                    }

                    if (errors.Count == 0) continue;
                    rejected++;
                    load.Snapshot.Should().BeNull("a snapshot with errors is never used");
                    errors.Should().OnlyContain(d => d.Location.File == "dir.json" && d.Location.Line >= 1 && d.Code.StartsWith("RE02", StringComparison.Ordinal),
                        $"{(user ? "user" : "group")} field {field} = {Encoding.Latin1.GetString(Hostile[v])}");
                }
            }
        }

        rejected.Should().BeGreaterThan((UserFields.Length + GroupFields.Length) * 4);
    }

    [Fact]
    public void Read_TenThousandUsersOneWithALoneSurrogate_OneDiagnosticAtItsLine()
    {
        var lines = Enumerable.Range(0, 10_000).Select(i => i == 7_777
            ? "{\"provider\": \"okta\", \"id\": \"00u7777\", \"name\": \"\\ud800@corp.example.com\"}"
            : $"{{\"provider\": \"okta\", \"id\": \"00u{i}\", \"name\": \"user{i}@corp.example.com\"}}");
        var load = Read("{\"version\": 1, \"groups\": [], \"users\": [\n" + string.Join(",\n", lines) + "\n]}");

        load.Snapshot.Should().BeNull();
        load.Diagnostics.Should().ContainSingle().Which.Location.Line.Should().Be(7_779);
        Read("{\"version\": 1, \"groups\": [], \"users\": [\n" + string.Join(",\n", lines.Select((l, i) => i == 7_777 ? "{\"provider\": \"okta\", \"id\": \"00u7777\", \"name\": \"u@corp.example.com\"}" : l)) + "\n]}")
            .Snapshot!.Users.Should().HaveCount(10_000);
    }

    private const string AnnSid = "S-1-5-21-1004336348-1177238915-682003330-1104";

    [Fact]
    public void Resolve_AdAccountBySidOrDomainBackslashAccount_FindsThatAccountOnly()
    {
        var load = Read($$"""
            {"version": 1, "groups": [], "users": [
              {"provider": "ad", "id": "6f1c0d8e-4d39-4f3a-9d84-1b5a2f0c7e11", "name": "ann", "sid": "{{AnnSid}}"},
              {"provider": "ad", "id": "0b7a3e52-9c1d-4e6f-8a2b-5d4c3b2a1f00", "name": "bob"},
              {"provider": "entra", "id": "e-1", "name": "ann@corp.example.com"}]}
            """);
        load.Diagnostics.Should().BeEmpty();
        var snapshot = load.Snapshot!;
        string? Name(string? id, string? name, Provider provider = Provider.Ad) => snapshot.Resolve(new Subject(provider, id, name)).Identity?.Name;

        Name(AnnSid, null).Should().Be("ann");
        Name(AnnSid.ToLowerInvariant(), null).Should().Be("ann", "a SID compares without case");
        snapshot.Resolve(new Subject(Provider.Ad, AnnSid, null)).Identity!.Sid.Should().Be(AnnSid);
        Name(AnnSid, "CORP\\bob").Should().Be("ann", "the SID is the id: it wins over the name");
        Name("S-1-5-21-1004336348-1177238915-682003330-9999", "CORP\\bob").Should().Be("bob", "a SID the snapshot does not know falls back to the name");
        Name(null, "CORP\\ann").Should().Be("ann");
        Name(null, "corp\\ANN").Should().Be("ann");
        Name(null, "CORP\\").Should().BeNull();
        Name(null, "\\ann").Should().BeNull();
        Name(AnnSid, null, Provider.Entra).Should().BeNull("a SID names an AD account only");
        Name(null, "CORP\\ann", Provider.Okta).Should().BeNull();
    }

    [Theory]
    [InlineData("entra", "S-1-5-21-1-2-3-1104", "AD property")]
    [InlineData("ad", "S-1-5", "not a SID")]
    [InlineData("ad", "S-1-5-21-x-1104", "not a SID")]
    [InlineData("ad", "1104", "not a SID")]
    public void Read_BadSid_ErrorAtTheField(string provider, string sid, string message)
    {
        var load = Read($$"""
            {"version": 1, "groups": [],
             "users": [{"provider": "{{provider}}", "id": "u-1", "name": "ann", "sid": "{{sid}}"}]}
            """);

        load.Snapshot.Should().BeNull();
        load.Diagnostics.Should().ContainSingle().Which.Should().Match<Diagnostic>(d => d.Message.Contains(message, StringComparison.Ordinal) && d.Location.Line == 2 && d.Location.Column > 40);
    }

    [Fact]
    public void Read_TwoUsersWithOneSid_Refused()
    {
        var load = Read($$"""
            {"version": 1, "groups": [], "users": [
              {"provider": "ad", "id": "u-1", "name": "ann", "sid": "{{AnnSid}}"},
              {"provider": "ad", "id": "u-2", "name": "bob", "sid": "{{AnnSid.Replace("S-", "s-", StringComparison.Ordinal)}}"}]}
            """);

        load.Diagnostics.Should().ContainSingle(d => d.Message.Contains("duplicate AD user sid", StringComparison.Ordinal) && d.Location.Line == 3);
    }

    [Fact]
    public void Sids_TextAndBinary_RoundTripAsLdapStoresThem()
    {
        // objectSid of S-1-5-21-1004336348-1177238915-682003330-512, as [MS-DTYP] 2.4.2.2 lays it out.
        byte[] binary = [1, 5, 0, 0, 0, 0, 0, 5, 21, 0, 0, 0, 0xDC, 0xF4, 0xDC, 0x3B, 0x83, 0x3D, 0x2B, 0x46, 0x82, 0x8B, 0xA6, 0x28, 0x00, 0x02, 0x00, 0x00];
        Sids.TryParse("S-1-5-21-1004336348-1177238915-682003330-512", out var parsed).Should().BeTrue();
        parsed.Should().Equal(binary);
        Sids.ToText(binary).Should().Be("S-1-5-21-1004336348-1177238915-682003330-512");

        Gen.Select(Gen.ULong[0, 0xFFFF_FFFF_FFFF], Gen.UInt.Array[1, 15]).Sample((authority, subs) =>
        {
            var text = "S-1-" + authority.ToString(System.Globalization.CultureInfo.InvariantCulture) + string.Concat(subs.Select(s => "-" + s.ToString(System.Globalization.CultureInfo.InvariantCulture)));
            Sids.TryParse(text, out var bytes).Should().BeTrue(text);
            Sids.ToText(bytes).Should().Be(text);
        });
        foreach (var bad in new[] { "", "S-1", "S-1-5", "S-2-5-21", "S-1-5-", "S-1--5-21", "S-1-5-21-4294967296", "S-1-281474976710656-1", "S-1-5-21-+1", "S-1-5- 21" })
        {
            Sids.TryParse(bad, out _).Should().BeFalse(bad);
        }

        Sids.ToText([1, 2, 0, 0, 0, 0, 0, 5, 21, 0, 0, 0]).Should().BeNull("the count says two sub-authorities, the bytes hold one");
    }
}
