using System.Text.Json;
using Microsoft.Extensions.Time.Testing;
using ResponseEngine.TestKit;

namespace ResponseEngine.Cli.Tests;

/// <summary>`respond plan --base`: a rule change reviewed by its effect, on a scripted git repository.</summary>
[Trait("Reads", RepoPaths.ReadsShippedRules)]
public sealed class PlanDiffTests : IDisposable
{
    private readonly GitRepo _repo = new();

    public PlanDiffTests()
    {
        _repo.CopyIn(RepoPaths.Rules, "rules");
        _repo.Commit("base rules");
    }

    public void Dispose() => _repo.Dispose();

    private string Rules => _repo.Rules;

    private (int Exit, string Out, string Err) Plan(params string[] extra)
    {
        var output = new StringWriter();
        var error = new StringWriter();
        var exit = CliApp.Run(["plan", "--rules", Rules, "--findings", RepoPaths.SampleFindings, "--directory", RepoPaths.SampleDirectory, .. extra],
            output, error, new FakeTimeProvider(Build.Now));
        return (exit, output.ToString(), error.ToString());
    }

    [Fact]
    public void Base_OneRuleConditionChanged_ListsExactlyTheIdentitiesWhoseActionsChange()
    {
        var file = Path.Combine(Rules, "entra", "entra-risky-user-high.yaml");
        var text = File.ReadAllText(file);
        text.Should().Contain("min_severity: high");
        File.WriteAllText(file, text.Replace("min_severity: high", "min_severity: critical", StringComparison.Ordinal));
        _repo.Commit("only critical risk");

        var (exit, output, error) = Plan("--base", "HEAD~1", "--format", "json");

        exit.Should().Be(0, error);
        using var diff = JsonDocument.Parse(output);
        diff.RootElement.GetProperty("rules_changed").EnumerateArray().Select(e => e.GetString()).Should().Equal(Path.Join(Rules, "entra/entra-risky-user-high.yaml"));

        // What must change: the identities the rule acted on for high (not critical) findings. Computed from the two plans independently.
        // Exactly the accounts the rule acted on for high (not critical) findings.
        var expected = Decisions(PlanWithRulesAt("HEAD~1"))
            .Where(d => d.Rule == "entra-risky-user-high" && d.Severity == "high").Select(d => "entra:" + d.Target).ToHashSet();
        expected.Should().NotBeEmpty();

        var identities = diff.RootElement.GetProperty("identities").EnumerateArray().Concat(diff.RootElement.GetProperty("unresolved").EnumerateArray()).ToList();
        identities.Select(i => i.GetProperty("provider").GetString() + ":" + i.GetProperty("target").GetString()).Should().BeEquivalentTo(expected);
        identities.SelectMany(i => i.GetProperty("changes").EnumerateArray()).Should().OnlyContain(c =>
            c.GetProperty("change").GetString() == "removed" || c.GetProperty("change").GetString() == "changed");
    }

    [Fact]
    public void Base_WorkingTreeChange_TextNamesTheIdentityAndTheFailGateTrips()
    {
        var file = Path.Combine(Rules, "ad", "ad-breached-password-standard-user.yaml");
        File.WriteAllText(file, File.ReadAllText(file).Replace("mode: observe", "mode: enforce", StringComparison.Ordinal));

        var (exit, output, error) = Plan("--base", "HEAD", "--fail-on-increase", "0", "--at", "2026-11-26T08:00:00Z");

        output.Should().StartWith("Against HEAD (").And.Contain("1 rule file changed");
        output.Should().Contain("~ reset_password: skip [rule_mode] → ");
        exit.Should().Be(1, "observe → enforce adds destructive actions beyond the gate of 0");
        error.Should().Contain("destructive actions grow by");
    }

    [Fact]
    public void Base_NoChange_SaysNoIdentityIsAffected()
    {
        var (exit, output, _) = Plan("--base", "HEAD");

        exit.Should().Be(0);
        output.Should().Contain("0 rule files changed, 0 identities affected").And.Contain("No identity is affected.");
    }

    [Fact]
    public void Base_UnknownRef_IsBadInput()
    {
        var (exit, _, error) = Plan("--base", "no-such-branch");

        exit.Should().Be(2);
        error.Should().Contain("--base no-such-branch: git");
    }

    private string PlanWithRulesAt(string reference)
    {
        _repo.Git("checkout", "-q", reference, "--", "rules");
        try
        {
            return Plan("--format", "json").Out;
        }
        finally
        {
            _repo.Git("checkout", "-q", "HEAD", "--", "rules");
        }
    }

    private static List<(string Target, string Rule, string Severity)> Decisions(string planJson)
    {
        using var plan = JsonDocument.Parse(planJson);
        return [.. plan.RootElement.GetProperty("decisions").EnumerateArray().Select(d =>
        {
            var identity = d.GetProperty("identity");
            var target = identity.ValueKind == JsonValueKind.Null
                ? d.GetProperty("finding").GetProperty("subject").GetProperty("name").GetString() ?? d.GetProperty("finding").GetProperty("subject").GetProperty("id").GetString()!
                : identity.GetProperty("upn").GetString() ?? identity.GetProperty("name").GetString()!;
            return (target, d.GetProperty("rule").GetProperty("id").GetString()!, d.GetProperty("finding").GetProperty("severity").GetString()!);
        })];
    }
}
