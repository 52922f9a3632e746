using ResponseEngine.TestKit;

namespace ResponseEngine.Cli.Tests;

/// <summary>
/// Issue #21, findings about one person from several sources: the ITDR product names Alice's AD account, Defender her
/// Entra account, in separate runs on one trail (`respond run --once` twice, the local directory, SQLite). Dedupe and
/// pending remediation are per account and action (provider, id, action, parameters), and a rule's `on:` turns a finding
/// into decisions on the person's accounts, so the second finding acts on no account the first already acted on — with a
/// linked-scope rule and with a self-scope rule alike — and still does what nobody did yet. No person key is needed in the
/// guards: two self-scope rules acting on two different accounts of one person are two different actions (docs/rules.md).
/// </summary>
public class PersonCorrelationCliTests
{
    private static (TempDirectory Temp, string Config) Workspace(string entraRuleActions)
    {
        var temp = new TempDirectory();
        temp.Write("directory.json", LinkedAccountsFixture.Directory());
        temp.Write("rules/ad/ad-compromised-person.yaml", LinkedAccountsFixture.PersonRule("contain the person (ITDR, AD account)", tests: LinkedAccountsFixture.EveryAccountTest));
        temp.Write("rules/entra/entra-compromised.yaml", $"""
            id: entra-compromised
            title: contain the account (Defender, Entra account)
            owner: tests
            mode: enforce
            match:
              types: [compromised_account]
              providers: [entra]
            actions:
            {entraRuleActions}
            """);
        temp.Write("findings/itdr.json", $"[{LinkedAccountsFixture.ItdrFinding("itdr-1", "alice")}]\n");
        temp.Write("findings/defender.json", """
            [{"id":"da-1","source":"defender","kind":"detection","type":"compromised_account","severity":"high","observed_at":"2026-11-20T08:05:00Z","subject":{"provider":"entra","name":"alice@corp.example.com"},"title":"x"}]
            """);
        var config = temp.Write("respond.yaml", $"""
            rules: {Path.Combine(temp.Path, "rules")}
            audit: {"{"} connection: {Path.Combine(temp.Path, "respond.db")} {"}"}
            local: {"{"} snapshot: {Path.Combine(temp.Path, "directory.json")}, working_copy: {Path.Combine(temp.Path, "state", "directory.json")} {"}"}
            {LinkedAccountsFixture.Linking}
            """);
        return (temp, config);
    }

    public static TheoryData<string, string> EntraRules => new()
    {
        // Linked scope: Defender's finding about the Entra account reaches the same Entra and Okta accounts.
        { "linked", "  - action: revoke_sessions\n    on: [entra, okta]" },

        // Self scope: only the Entra account, which the ITDR finding's linked decision already acted on.
        { "self", "  - action: revoke_sessions" },
    };

    [Theory]
    [MemberData(nameof(EntraRules))]
    public void TheSecondSourcesFinding_AboutAnotherAccountOfThePerson_ActsOnNoAccountTwice(string scope, string actions)
    {
        var (temp, config) = Workspace(actions);
        using var _ = temp;

        Run(config, "itdr.json").Should().Be(0);
        var second = Run(config, "defender.json");
        second.Should().Be(0);

        var rows = AuditRows(config);
        var intents = rows.Where(r => r.Contains(" intended ", StringComparison.Ordinal)).ToList();
        intents.Should().HaveCount(3, $"disable in AD and revoke in Entra and Okta, once each ({scope} scope):\n{string.Join('\n', rows)}");
        rows.Where(r => r.Contains("entra-compromised", StringComparison.Ordinal)).Should()
            .NotBeEmpty().And.OnlyContain(r => r.Contains(" skipped ", StringComparison.Ordinal) && r.Contains("[dedupe]", StringComparison.Ordinal),
                "Defender's finding is the same person: its revoke_sessions was done on these accounts within the dedupe window");
    }

    [Fact]
    public void DefenderFirst_WithASelfScopeRule_ThenTheItdrFinding_DoesOnlyWhatIsLeft()
    {
        var (temp, config) = Workspace("  - action: revoke_sessions");
        using var _ = temp;

        Run(config, "defender.json").Should().Be(0);
        Run(config, "itdr.json").Should().Be(0);

        var rows = AuditRows(config);
        var itdr = rows.Where(r => r.Contains("ad-compromised-person", StringComparison.Ordinal)).ToList();
        itdr.Where(r => r.Contains(" intended ", StringComparison.Ordinal)).Select(Action).Should().BeEquivalentTo(["disable_user", "revoke_sessions"],
            "the AD account is disabled and the Okta sessions cleared; the Entra sessions were already revoked for Defender's finding:\n" + string.Join('\n', rows));
        itdr.Should().ContainSingle(r => r.Contains(" skipped ", StringComparison.Ordinal) && r.Contains("[dedupe]", StringComparison.Ordinal) && r.Contains("alice@corp.example.com", StringComparison.Ordinal));
    }

    private static int Run(string config, string findings)
    {
        var output = new StringWriter();
        var error = new StringWriter();
        var code = CliApp.Run(["run", "--once", "--config", config, "--findings", Path.Combine(Path.GetDirectoryName(config)!, "findings", findings)], output, error);
        code.Should().Be(0, output + error.ToString());
        return code;
    }

    private static List<string> AuditRows(string config)
    {
        var list = new StringWriter();
        CliApp.Run(["audit", "list", "--config", config, "-n", "100"], list, new StringWriter()).Should().Be(0);
        return [.. list.ToString().Split('\n').Skip(1).Where(l => l.Length > 0)];
    }

    private static string Action(string row) => row.Split("  ", StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)[3];
}
