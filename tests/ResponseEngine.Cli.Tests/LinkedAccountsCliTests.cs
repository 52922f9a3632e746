using ResponseEngine.Identities;
using ResponseEngine.TestKit;

namespace ResponseEngine.Cli.Tests;

/// <summary>
/// Issue #21 through the command line on the embedded default: `respond run` links the finding's AD account to its Entra
/// and Okta accounts on the local directory (each connector's accounts, as `respond snapshot` reads them), acts on each,
/// and `respond audit list --person` shows the person's accounts and rows together, from any of them.
/// </summary>
public class LinkedAccountsCliTests
{
    private static (TempDirectory Temp, string Config) Workspace()
    {
        var temp = new TempDirectory();
        temp.Write("directory.json", LinkedAccountsFixture.Directory("""{"provider": "ad", "id": "8d1b1c2a-0000-4000-8000-000000000009", "name": "bob", "upn": "bob@corp.example.com"}"""));
        temp.Write("rules/ad/ad-compromised-person.yaml", LinkedAccountsFixture.PersonRule(extra: "when: identity.enabled", tests: LinkedAccountsFixture.EveryAccountTest + """
              - name: a disabled account
                identity: { enabled: false }
                expect: []

            """));
        temp.Write("findings/f.json", $"[{LinkedAccountsFixture.ItdrFinding("itdr-1", "alice")},\n {LinkedAccountsFixture.ItdrFinding("itdr-2", "bob")}]\n");
        var config = temp.Write("respond.yaml", $"""
            rules: {Path.Combine(temp.Path, "rules")}
            findings: [{Path.Combine(temp.Path, "findings")}]
            audit: {"{"} connection: {Path.Combine(temp.Path, "respond.db")} {"}"}
            local: {"{"} snapshot: {Path.Combine(temp.Path, "directory.json")}, working_copy: {Path.Combine(temp.Path, "state", "directory.json")} {"}"}
            {LinkedAccountsFixture.Linking}
            """);
        return (temp, config);
    }

    [Fact]
    public async Task Run_ActsOnThePersonsAccounts_AndAuditListPerson_ShowsThemTogether()
    {
        var (temp, config) = Workspace();
        using var _ = temp;
        var output = new StringWriter();
        var error = new StringWriter();

        CliApp.Run(["run", "--once", "--config", config], output, error).Should().Be(0, output + error.ToString());

        // The local directory as another process reads it: the working copy and any journal of changes not folded into it yet.
        using var reader = Connectors.Local.LocalDirectory.Open(Path.Combine(temp.Path, "directory.json"), Path.Combine(temp.Path, "state", "directory.json"), TimeProvider.System);
        var working = SnapshotReader.Read(await reader.ExportAsync(TestContext.Current.CancellationToken), "working copy", PrivilegedPolicy.Default).Snapshot!;
        working.Users.Single(u => u.Id == LinkedAccountsFixture.AdId.ToString("D")).Enabled.Should().BeFalse();
        working.Users.Single(u => u.Id == "e-alice").SessionsRevokedAt.Should().NotBeNull("the linked Entra account's sessions were revoked");
        working.Users.Single(u => u.Id == "00u-alice").SessionsRevokedAt.Should().NotBeNull("the linked Okta account's sessions were cleared");

        foreach (var who in new[] { "alice@corp.example.com", "e-alice", "00u-alice" })
        {
            var list = new StringWriter();
            CliApp.Run(["audit", "list", "--config", config, "--person", who], list, new StringWriter()).Should().Be(0);
            var lines = list.ToString().Split('\n');
            lines[0].Should().Be("person: alice@corp.example.com (ad), alice@corp.example.com (entra), alice@corp.example.com (okta)", who);
            lines.Count(l => l.Contains(" intended ", StringComparison.Ordinal)).Should().Be(3, list.ToString());
            list.ToString().Should().NotContain("bob", "another person's rows are not shown");
        }
    }
}
