using System.Diagnostics;
using System.Text.RegularExpressions;
using Microsoft.Extensions.Time.Testing;
using ResponseEngine.TestKit;

namespace ResponseEngine.Cli.Tests;

/// <summary>`respond plan --format html`: one self-contained page, rendered in a real headless Chromium.</summary>
public sealed partial class PlanHtmlTests : IDisposable
{
    private readonly TempDirectory _temp = new();

    public void Dispose() => _temp.Dispose();

    private string WritePlan()
    {
        var file = Path.Combine(_temp.Path, "plan.html");
        var exit = CliApp.Run(["plan", "--rules", RepoPaths.Rules, "--findings", RepoPaths.SampleFindings, "--directory", RepoPaths.SampleDirectory,
            "--format", "html", "--out", file], new StringWriter(), new StringWriter(), new FakeTimeProvider(Build.Now));
        exit.Should().Be(0);
        return file;
    }

    [Fact]
    public void Html_IsSelfContainedWithSummaryAndFilters()
    {
        var html = File.ReadAllText(WritePlan());

        ExternalReference().IsMatch(html).Should().BeFalse("the page must work offline, as an artifact");
        html.Should().Contain("<div class=\"card\"><b>245</b>decisions</div>");
        html.Should().Contain("id=\"filter-rule\"").And.Contain("id=\"filter-action\"").And.Contain("id=\"filter-verdict\"");
        html.Should().Contain("data-rule=\"ad-weak-password-privileged\"");
    }

    [Fact]
    public async Task Html_RendersInHeadlessChromiumWithTheSummaryAndWorkingFilters()
    {
        const string chromium = "/usr/bin/chromium";
        if (!File.Exists(chromium))
        {
            if (Environment.GetEnvironmentVariable("CI") == "true") Assert.Fail("Chromium is missing under CI=true; ./test.sh installs it when run as root");
            Assert.Skip("needs Chromium: run ./test.sh as root, or apt-get install chromium");
        }

        var page = WritePlan();
        var dom = await RunChromiumAsync(chromium, "--dump-dom", "file://" + page);
        dom.Should().Contain("245 decisions shown", "the page's script ran in the browser and counted the rows");
        var executed = System.Text.RegularExpressions.Regex.Count(File.ReadAllText(page), "data-verdict=\"execute\"");
        dom.Should().Contain($"<b>{executed}</b>execute", "the summary card counts the decisions listed as execute");

        var screenshot = Path.Combine(_temp.Path, "plan.png");
        await RunChromiumAsync(chromium, "--window-size=1200,800", "--screenshot=" + screenshot, "file://" + page);
        new FileInfo(screenshot).Length.Should().BeGreaterThan(10_000, "a screenshot of the summary was taken");
    }

    private async Task<string> RunChromiumAsync(string chromium, params string[] args)
    {
        var info = new ProcessStartInfo(chromium) { RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var arg in (string[])["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
                     "--disable-component-update", "--disable-sync", "--user-data-dir=" + Path.Combine(_temp.Path, "chrome-profile"), .. args])
        {
            info.ArgumentList.Add(arg);
        }

        using var process = Process.Start(info)!;
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(90));
        var output = process.StandardOutput.ReadToEndAsync(timeout.Token);
        var error = process.StandardError.ReadToEndAsync(timeout.Token);
        await process.WaitForExitAsync(timeout.Token);
        process.ExitCode.Should().Be(0, await error);
        return await output;
    }

    [GeneratedRegex("""(src|href)\s*=\s*["']?(https?:)?//""", RegexOptions.IgnoreCase)]
    private static partial Regex ExternalReference();
}

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
