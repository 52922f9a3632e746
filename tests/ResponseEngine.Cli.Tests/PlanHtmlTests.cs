using System.Text.RegularExpressions;
using Microsoft.Extensions.Time.Testing;
using ResponseEngine.TestKit;

namespace ResponseEngine.Cli.Tests;

/// <summary>`respond plan --format html`: one self-contained page, rendered in a real headless Chromium.</summary>
[Trait("Reads", RepoPaths.ReadsShippedRules)]
public sealed partial class PlanHtmlTests : IDisposable
{
    private readonly TempDirectory _temp = new();

    public void Dispose() => _temp.Dispose();

    private string WritePlan(string rules)
    {
        var file = Path.Combine(_temp.Path, "plan.html");
        var exit = CliApp.Run(["plan", "--rules", rules, "--findings", RepoPaths.SampleFindings, "--directory", RepoPaths.SampleDirectory,
            "--format", "html", "--out", file], new StringWriter(), new StringWriter(), new FakeTimeProvider(Build.Now));
        exit.Should().Be(0);
        return file;
    }

    /// <summary>The plan's counts as its JSON form states them: what the page must show, whatever the rules are.</summary>
    private static (int Decisions, int Executed, string AnyRule) Counts(string rules)
    {
        var output = new StringWriter();
        CliApp.Run(["plan", "--rules", rules, "--findings", RepoPaths.SampleFindings, "--directory", RepoPaths.SampleDirectory, "--format", "json"],
            output, new StringWriter(), new FakeTimeProvider(Build.Now)).Should().Be(0);
        using var plan = System.Text.Json.JsonDocument.Parse(output.ToString());
        var summary = plan.RootElement.GetProperty("summary");
        return (summary.GetProperty("decisions").GetInt32(), summary.GetProperty("by_verdict").GetProperty("execute").GetInt32(),
            plan.RootElement.GetProperty("decisions")[0].GetProperty("rule").GetProperty("id").GetString()!);
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void Html_IsSelfContainedWithSummaryAndFilters(bool withAddedRule)
    {
        var rules = UserRuleSets.Rules(withAddedRule, _temp);
        var (decisions, _, rule) = Counts(rules);
        decisions.Should().BeGreaterThan(0);

        var html = File.ReadAllText(WritePlan(rules));

        ExternalReference().IsMatch(html).Should().BeFalse("the page must work offline, as an artifact");
        html.Should().Contain($"<div class=\"card\"><b>{decisions}</b>decisions</div>");
        html.Should().Contain("id=\"filter-rule\"").And.Contain("id=\"filter-action\"").And.Contain("id=\"filter-verdict\"");
        html.Should().Contain($"data-rule=\"{rule}\"");
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task Html_RendersInHeadlessChromiumWithTheSummaryAndWorkingFilters(bool withAddedRule)
    {
        Chromium.Require();
        var rules = UserRuleSets.Rules(withAddedRule, _temp);
        var (decisions, executed, _) = Counts(rules);

        var page = WritePlan(rules);
        var dom = await Chromium.RunAsync(Path.Combine(_temp.Path, "chrome-profile"), "--dump-dom", "file://" + page);
        dom.Should().Contain($"{decisions} decisions shown", "the page's script ran in the browser and counted the rows");
        dom.Should().Contain($"<b>{executed}</b>execute");

        var screenshot = Path.Combine(_temp.Path, "plan.png");
        await Chromium.RunAsync(Path.Combine(_temp.Path, "chrome-profile"), "--window-size=1200,800", "--screenshot=" + screenshot, "file://" + page);
        new FileInfo(screenshot).Length.Should().BeGreaterThan(10_000, "a screenshot of the summary was taken");
    }

    [GeneratedRegex("""(src|href)\s*=\s*["']?(https?:)?//""", RegexOptions.IgnoreCase)]
    private static partial Regex ExternalReference();
}

[Trait("Reads", RepoPaths.ReadsShippedRules)]
public class PlanMarkdownLimitTests
{
    [Fact]
    public void Markdown_OfALargePlan_StaysUnderTheCommentLimitAndSaysWhatItLeftOut()
    {
        using var temp = new TempDirectory();
        var snapshot = Identities.SnapshotReader.ReadFile(RepoPaths.SampleDirectory, Identities.PrivilegedPolicy.Default).Snapshot!;
        var lines = new List<string>();
        foreach (var user in snapshot.Users.Where(u => u.Provider == Findings.Provider.Ad))
        {
            for (var i = 0; i < 20; i++)
            {
                lines.Add("{\"id\":\"m" + lines.Count + "\",\"source\":\"t\",\"type\":\"weak_password\",\"severity\":\"high\",\"observed_at\":\"2026-11-20T08:00:00Z\",\"subject\":{\"provider\":\"ad\",\"id\":\"" + user.Id + "\"}}");
            }
        }

        var findings = temp.Write("many.ndjson", string.Join('\n', lines));
        var output = new StringWriter();

        CliApp.Run(["plan", "--rules", RepoPaths.Rules, "--findings", findings, "--directory", RepoPaths.SampleDirectory, "--format", "markdown"],
            output, new StringWriter()).Should().Be(0);

        var markdown = output.ToString();
        markdown.Length.Should().BeLessThan(65_536);
        markdown.Should().Contain("**Truncated:**").And.Contain("were left out");
    }
}
