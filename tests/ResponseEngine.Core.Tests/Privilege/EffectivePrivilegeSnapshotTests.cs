using System.Text;
using ResponseEngine.Diagnostics;
using ResponseEngine.Execution;
using ResponseEngine.Findings;
using ResponseEngine.Identities;

namespace ResponseEngine.Core.Tests.Privilege;

public class EffectivePrivilegeSnapshotTests
{
    private const string Directory = """
        {
          "version": 1,
          "groups": [
            { "provider": "ad", "id": "g-da", "name": "Domain Admins" },
            { "provider": "ad", "id": "g-t0", "name": "Tier0 Operators", "member_of": ["Domain Admins"] },
            { "provider": "entra", "id": "e-ops", "name": "Cloud Tier0", "role_assignable": true, "roles": ["Global Administrator"] },
            { "provider": "okta", "id": "o-adm", "name": "Okta Admins", "okta_type": "OKTA_GROUP", "roles": ["SUPER_ADMIN"] }
          ],
          "users": [
            { "provider": "ad", "id": "1", "name": "svc-legacy", "primary_group": "Domain Admins" },
            { "provider": "ad", "id": "2", "name": "bob", "groups": ["Tier0 Operators"] },
            { "provider": "entra", "id": "3", "name": "erin", "groups": ["Cloud Tier0"] },
            { "provider": "entra", "id": "4", "name": "pim", "eligible_roles": ["Global Administrator"] },
            { "provider": "okta", "id": "5", "name": "olga@corp.example.com", "groups": ["Okta Admins"] }
          ]
        }
        """;

    private static SnapshotLoad Read(string json) => SnapshotReader.Read(Encoding.UTF8.GetBytes(json), "dir.json", PrivilegedPolicy.Default);

    private static Identity Who(DirectorySnapshot snapshot, Provider provider, string id) => snapshot.Resolve(new Subject(provider, id, null)).Identity!;

    [Fact]
    public void Read_PrimaryGroupGroupRolesAndEligible_ProjectOntoTheIdentity()
    {
        var load = Read(Directory);

        load.Diagnostics.Should().BeEmpty();
        var snapshot = load.Snapshot!;
        var legacy = Who(snapshot, Provider.Ad, "1");
        legacy.Privileged.Should().BeTrue("Domain Admins by primaryGroupID");
        legacy.PrimaryGroup.Should().Be("Domain Admins");
        legacy.IsMemberOf("Domain Admins").Should().BeTrue();
        legacy.DirectGroup("Domain Admins").Should().NotBeNull();
        Who(snapshot, Provider.Ad, "2").TransitiveGroups.Should().BeEquivalentTo(["Tier0 Operators", "Domain Admins"]);

        var erin = Who(snapshot, Provider.Entra, "3");
        erin.HasRole("Global Administrator").Should().BeTrue();
        erin.DirectRoles.Should().BeEmpty();
        erin.GlobalAdmin.Should().BeTrue();
        erin.Privileged.Should().BeTrue();

        var pim = Who(snapshot, Provider.Entra, "4");
        pim.EligibleRoles.Should().Equal("Global Administrator");
        pim.HasRole("Global Administrator").Should().BeFalse();
        pim.Privileged.Should().BeFalse("eligible is reported, not held");

        var olga = Who(snapshot, Provider.Okta, "5");
        olga.HasRole("SUPER_ADMIN").Should().BeTrue();
        olga.Privileged.Should().BeTrue();
    }

    [Fact]
    public void CriticalSet_FromSnapshotGraph_CountsEveryPath()
    {
        var snapshot = Read(Directory).Snapshot!;

        CriticalSet.From(Provider.Ad, "Domain Admins", snapshot.Graph(Provider.Ad)).EnabledMemberIds.Should().Equal("1", "2");
        var ga = CriticalSet.From(Provider.Entra, "Global Administrator", snapshot.Graph(Provider.Entra));
        ga.EnabledMemberIds.Should().Equal("3");
        ga.SetNode.Should().Be("Global Administrator");
        CriticalSet.From(Provider.Okta, "SUPER_ADMIN", snapshot.Graph(Provider.Okta)).EnabledMemberIds.Should().Equal("5");
        CriticalSet.From(Provider.Ad, "Domain Admins", snapshot.Graph(Provider.Ad)).SetNode.Should().Be("g-da");
    }

    [Fact]
    public void Write_ThenRead_KeepsPrimaryGroupGroupRolesAndEligible()
    {
        var snapshot = Read(Directory).Snapshot!;
        var exports = Providers.All.Select(p => new DirectoryExport(p, [.. snapshot.Users.Where(u => u.Provider == p).Select(SnapshotWriter.Entry)],
            [.. snapshot.Groups.Where(g => g.Provider == p)]));

        var text = Encoding.UTF8.GetString(SnapshotWriter.Write(exports, new DateTimeOffset(2026, 12, 1, 0, 0, 0, TimeSpan.Zero)));

        text.Should().Contain("\"primary_group\": \"Domain Admins\"").And.Contain("\"role_assignable\": true")
            .And.Contain("\"eligible_roles\": [\"Global Administrator\"]").And.Contain("\"roles\": [\"SUPER_ADMIN\"]");
        text.Should().NotContain("\"groups\": [\"Domain Admins\"]", "the primary group is written once, as primary_group");
        var again = Read(text).Snapshot!;
        Who(again, Provider.Ad, "1").Should().BeEquivalentTo(Who(snapshot, Provider.Ad, "1"));
        Who(again, Provider.Entra, "3").Should().BeEquivalentTo(Who(snapshot, Provider.Entra, "3"));
        Who(again, Provider.Entra, "4").Should().BeEquivalentTo(Who(snapshot, Provider.Entra, "4"));
    }

    [Fact]
    public void Read_NewFieldsOnTheWrongProvider_AreReportedWithTheirPositions()
    {
        var load = Read("""
            {
              "groups": [
                { "provider": "entra", "name": "Plain", "roles": ["Global Administrator"] },
                { "provider": "ad", "name": "Ops", "roles": ["Global Administrator"], "role_assignable": true }
              ],
              "users": [
                { "provider": "entra", "id": "1", "name": "a", "primary_group": "Domain Admins" },
                { "provider": "okta", "id": "2", "name": "b", "eligible_roles": ["SUPER_ADMIN"] }
              ]
            }
            """);

        load.Snapshot.Should().BeNull();
        load.Diagnostics.Select(d => (d.Location.Line, d.Message.Split(';')[0])).Should().BeEquivalentTo(new[]
        {
            (3, "Entra ID assigns directory roles only to role-assignable groups"),
            (4, "'role_assignable' is an Entra ID group property"),
            (4, "an AD group holds no directory roles"),
            (7, "'primary_group' is an AD property (primaryGroupID)"),
            (8, "'eligible_roles' are Entra PIM eligibilities"),
        });
        load.Diagnostics.Should().OnlyContain(d => d.Code == DiagnosticCodes.DirectoryInvalid && d.Hint != null);
    }

    [Fact]
    public void Read_OldSnapshotWithoutNewFields_ReadsAsBefore()
    {
        var load = Read("""
            { "users": [ { "provider": "entra", "id": "1", "name": "a", "roles": ["Global Administrator"] } ] }
            """);

        var a = Who(load.Snapshot!, Provider.Entra, "1");
        a.DirectRoles.Should().Equal("Global Administrator");
        a.Roles.Should().Equal("Global Administrator");
        a.PrimaryGroup.Should().BeNull();
        a.EligibleRoles.Should().BeEmpty();
    }
}
