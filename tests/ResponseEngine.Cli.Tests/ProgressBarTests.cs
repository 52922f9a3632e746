using ResponseEngine.Cli.Rendering;

namespace ResponseEngine.Cli.Tests;

[Trait("Reads", TestKit.RepoPaths.ReadsShippedRules)]
public class ProgressBarTests
{
    [Fact]
    public void Report_RedrawsInPlaceOnlyWhenThePercentageMoves_AndDisposeErasesTheLine()
    {
        var writer = new StringWriter();
        using (var bar = new ProgressBar(writer, 100_000, "findings"))
        {
            for (var i = 0; i <= 100_000; i += 250) bar.Report(i);
            bar.Report(100_000);
            writer.ToString().Count(c => c == '\r').Should().Be(101, "one redraw per whole percent, 0 to 100");
            writer.ToString().Should().Contain("[------------------------------]   0% 0/100,000 findings")
                .And.Contain("[###############---------------]  50% 50,000/100,000 findings")
                .And.EndWith("[##############################] 100% 100,000/100,000 findings");
        }

        var text = writer.ToString();
        text.Should().NotContain("\n", "the bar never scrolls");
        text[(text.LastIndexOf("findings", StringComparison.Ordinal) + "findings".Length)..].Trim(' ', '\r').Should().BeEmpty("disposing blanks the line");
        text.Should().EndWith("\r");
    }

    [Fact]
    public void For_OutputCapturedOrShortRun_ShowsNoBar()
    {
        var captured = new CliContext(new StringWriter(), new StringWriter(), TimeProvider.System);
        ProgressBar.For(captured, 1_000_000, "findings").Should().BeNull("standard error is not a terminal");
        captured.Interactive.Should().BeFalse();
    }

    [Fact]
    public void Plan_LongRunWithRedirectedError_PrintsNoProgressToTheLog()
    {
        using var temp = new TestKit.TempDirectory();
        var findings = string.Join('\n', Enumerable.Range(0, ProgressBar.Threshold + 10).Select(i =>
            $$$"""{"id": "f{{{i}}}", "source": "test", "type": "weak_password", "severity": "high", "observed_at": "2026-11-20T08:00:00Z", "subject": {"provider": "ad", "name": "nobody{{{i}}}"}}"""));
        var file = temp.Write("many.ndjson", findings);
        var error = new StringWriter();

        CliApp.Run(["plan", "--rules", TestKit.RepoPaths.Rules, "--directory", TestKit.RepoPaths.SampleDirectory, "--findings", file], new StringWriter(), error).Should().Be(0, error.ToString());

        error.ToString().Should().NotContain("\r").And.NotContain("[#");
    }
}
