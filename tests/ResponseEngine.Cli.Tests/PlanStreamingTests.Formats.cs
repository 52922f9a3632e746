using ResponseEngine.Cli.Rendering;
using ResponseEngine.Cli.Tests.PlanRendering;

namespace ResponseEngine.Cli.Tests;

/// <summary>Text, Markdown and HTML plans as streams (#23): bounded memory, and the same output as the whole plan gives.</summary>
public sealed partial class PlanStreamingTests
{
    /// <summary>
    /// A plan of several windows of findings, its decisions spilled in runs of a few records (so runs are merged, in
    /// passes), is the same text as the reference renderers make from the whole plan, in each format.
    /// </summary>
    [Theory]
    [InlineData("text")]
    [InlineData("markdown")]
    [InlineData("html")]
    public async Task Streamed_SeveralWindowsSpilledInManyRuns_EqualsTheWholePlanRendering(string format)
    {
        var (rules, snapshot, findings) = WriteWorkload(_temp.Path, users: 300, findingCount: 9_000, matchedEvery: 2);
        var plans = new StreamedPlanFormats(rules, findings, snapshot);
        var expected = StreamedPlanFormats.Reference(format, await plans.InMemoryAsync());

        using var renderer = format == "html" ? new PlanHtmlRenderer(spillBudget: 64 << 10, detailCap: int.MaxValue) : PlanRenderers.For(format, color: false, spillBudget: 64 << 10);
        var streamed = await plans.StreamedAsync(renderer);

        renderer.Totals.Decisions.Should().BeGreaterThan(4_096, "more than one window of decisions");
        streamed.Should().Be(expected);
    }

    /// <summary>Past its detail cap the HTML page shows that many decisions, all the counts, and says how many it left out and how to get them.</summary>
    [Fact]
    public async Task Html_PastTheDetailCap_ShowsTheCapAndSaysWhatItLeftOut()
    {
        var (rules, snapshot, findings) = WriteWorkload(_temp.Path, users: 50, findingCount: 300);
        var plans = new StreamedPlanFormats(rules, findings, snapshot);
        using var renderer = new PlanHtmlRenderer(detailCap: 25);

        var html = await plans.StreamedAsync(renderer);

        var total = renderer.Totals.Decisions;
        total.Should().BeGreaterThan(25);
        html.Should().Contain($"<div class=\"card\"><b>{total}</b>decisions</div>");
        html.Split("<tr class=\"decision\"").Length.Should().Be(26);
        html.Should().Contain($"The first 25 of {total:N0} decisions are shown in detail; {total - 25:N0} are left out").And.Contain("--format json");
        html.Should().EndWith("</html>");
    }

    /// <summary>
    /// A million findings through the real CLI `plan` in text, Markdown and HTML to /dev/null: the process's peak resident
    /// memory (VmHWM, read from /proc while it runs) stays under the JSON plan's cap, far below what holding every finding
    /// takes (about 2 KB a finding). About 117,000 decisions are rendered, in order. A bounded-memory property, not a timing.
    /// </summary>
    [Theory]
    [InlineData("text")]
    [InlineData("markdown")]
    [InlineData("html")]
    public Task Plan_MillionFindingsAsTextMarkdownOrHtmlToDevNull_PeakMemoryStaysUnderTheCap(string format) => AssertMillionFindingsPlanStaysUnderTheCapAsync(format);
}
