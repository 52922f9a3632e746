using System.Text;
using ResponseEngine.Diagnostics;
using ResponseEngine.Findings;
using ResponseEngine.Identities;
using ResponseEngine.TestKit;

namespace ResponseEngine.Connectors.Local.Tests;

/// <summary>The optional per-user state fields the local directory writes, as the snapshot reader reads them back.</summary>
public class SnapshotStateTests
{
    private static SnapshotLoad Read(string json) => SnapshotReader.Read(Encoding.UTF8.GetBytes(json), "dir.json", PrivilegedPolicy.Default);

    [Fact]
    public void Read_StateFields_AreOnTheIdentity()
    {
        var load = Read("""
            {"users": [
              {"provider": "entra", "id": "1", "name": "erin", "password_must_change": true, "sessions_revoked_at": "2026-11-26T08:00:00Z",
               "last_sign_in_at": "2026-11-26T07:00:00.5Z", "risk_state": "confirmed_compromised", "mfa_policies": ["P"]},
              {"provider": "ad", "id": "2", "name": "alice", "random_password_set_at": "2026-11-26T08:00:00+01:00"},
              {"provider": "okta", "id": "3", "name": "olga", "okta_status": "SUSPENDED"},
              {"provider": "okta", "id": "4", "name": "oscar", "okta_status": "PASSWORD_EXPIRED"}
            ]}
            """);

        load.Diagnostics.Should().BeEmpty();
        var erin = load.Snapshot!.Resolve(new Subject(Provider.Entra, "1", null)).Identity!;
        erin.PasswordMustChange.Should().BeTrue();
        erin.SessionsRevokedAt.Should().Be(new DateTimeOffset(2026, 11, 26, 8, 0, 0, TimeSpan.Zero));
        erin.LastSignInAt.Should().Be(new DateTimeOffset(2026, 11, 26, 7, 0, 0, 500, TimeSpan.Zero));
        erin.RiskState.Should().Be("confirmed_compromised");
        erin.MfaPolicies.Should().Equal("P");
        load.Snapshot.Resolve(new Subject(Provider.Ad, "2", null)).Identity!.RandomPasswordSetAt.Should().Be(new DateTimeOffset(2026, 11, 26, 7, 0, 0, TimeSpan.Zero));
        load.Snapshot.Resolve(new Subject(Provider.Okta, "3", null)).Identity!.Enabled.Should().BeFalse("a SUSPENDED user cannot sign in");
        load.Snapshot.Resolve(new Subject(Provider.Okta, "4", null)).Identity!.Enabled.Should().BeTrue("a PASSWORD_EXPIRED user signs in and changes it");
    }

    [Fact]
    public void Read_BadStateValues_AreReportedWithTheirPositions()
    {
        var load = Read("""
            {"users": [
              {"provider": "okta", "id": "1", "name": "olga", "okta_status": "SUSPEND"},
              {"provider": "okta", "id": "2", "name": "oscar", "okta_status": "SUSPENDED", "enabled": true},
              {"provider": "entra", "id": "3", "name": "erin", "risk_state": "high", "sessions_revoked_at": "yesterday"}
            ]}
            """);

        load.Snapshot.Should().BeNull();
        load.Diagnostics.Select(d => d.ToString()).Should().BeEquivalentTo(
        [
            "dir.json:2:51: error RE0201: field 'okta_status' is 'SUSPEND', not one of STAGED, PROVISIONED, ACTIVE, RECOVERY, LOCKED_OUT, PASSWORD_EXPIRED, SUSPENDED, DEPROVISIONED; did you mean 'SUSPENDED'?",
            "dir.json:3:80: error RE0201: 'enabled' is true but okta_status SUSPENDED means the account cannot sign in; leave 'enabled' out: it follows from okta_status",
            "dir.json:4:52: error RE0201: field 'risk_state' is 'high', not one of none, at_risk, confirmed_safe, remediated, dismissed, confirmed_compromised; expected one of: none, at_risk, confirmed_safe, remediated, dismissed, confirmed_compromised",
            "dir.json:4:74: error RE0201: field 'sessions_revoked_at' must be an RFC 3339 timestamp; write it like 2026-11-20T08:15:00Z",
        ]);
    }

    [Fact]
    public void Sample_StillLoadsAndMatchesTheSchema()
    {
        SnapshotReader.ReadFile(RepoPaths.SampleDirectory, PrivilegedPolicy.Default).Diagnostics.Should().BeEmpty();
        SchemaValidator.Validate("directory", File.ReadAllText(RepoPaths.SampleDirectory)).Should().BeEmpty();
    }
}
