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
}
