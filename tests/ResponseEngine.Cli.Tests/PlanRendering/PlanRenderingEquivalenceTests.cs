using CsCheck;
using ResponseEngine.Cli.Rendering;
using ResponseEngine.TestKit;

namespace ResponseEngine.Cli.Tests.PlanRendering;

/// <summary>
/// The streamed text, Markdown and HTML plans (#23) against the reference renderers that hold the whole plan: the sample
/// plan through the command line is the same text, byte for byte, in each format.
/// </summary>
[Trait("Reads", RepoPaths.ReadsShippedRules)]
public sealed class PlanRenderingEquivalenceTests
{
    [Theory]
    [InlineData("text")]
    [InlineData("markdown")]
    [InlineData("html")]
    public async Task SamplePlan_StreamedThroughTheCommand_EqualsTheWholePlanRendering(string format)
    {
        var plans = new StreamedPlanFormats(RepoPaths.Rules, RepoPaths.SampleFindings, RepoPaths.SampleDirectory);
        var expected = StreamedPlanFormats.Reference(format, await plans.InMemoryAsync());

        var streamed = plans.Cli(format);

        expected.Should().Contain(" decisions");
        streamed.Should().Be(expected);
    }
}

/// <summary>The spill that puts a streamed plan's decisions in order: the order of a stable sort, whatever the budget.</summary>
public sealed class SortedSpillTests
{
    private static readonly Gen<(int Group, string Key, string? Field)> Record =
        Gen.Select(Gen.Int[0, 3], Gen.OneOf(Gen.Const("alice"), Gen.Const("Alice"), Gen.Const("bob"), Gen.Const(""), Gen.String[0, 6]), Gen.Bool.SelectMany(none => none ? Gen.Const((string?)null) : Gen.String[0, 40].Select(s => (string?)s)));

    [Fact]
    public void Drain_AnyRecordsAndBudget_IsTheStableSortByGroupKeyThenArrival()
    {
        Gen.Select(Record.List[0, 700], Gen.Int[1, 40_000], Gen.Bool).Sample((records, budget, ignoreCase) =>
        {
            var order = ignoreCase ? StringComparer.OrdinalIgnoreCase : StringComparer.Ordinal;
            using var spill = new SortedSpill(order, budget);
            foreach (var (group, key, field) in records) spill.Add(group, key, field, key);

            var drained = spill.Drain().Select(r => (r.Group, r.Key, r.Fields[0])).ToList();

            var expected = records.OrderBy(r => r.Group).ThenBy(r => r.Key, order).ThenBy(r => r.Key, StringComparer.Ordinal).ToList();
            drained.Should().Equal(expected);
        }, iter: 60);
    }

    [Fact]
    public void Drain_MoreRunsThanOneMergeReads_MergesThemInPasses()
    {
        using var spill = new SortedSpill(StringComparer.Ordinal, budgetBytes: 1);
        var keys = Enumerable.Range(0, SortedSpill.FanIn * 3 + 5).Select(i => $"k{i * 7919 % 1000:D4}").ToList();
        foreach (var key in keys) spill.Add(0, key, key);

        spill.RunCount.Should().Be(keys.Count, "each record was a run of its own");
        spill.Drain().Select(r => r.Key).Should().Equal(keys.Order(StringComparer.Ordinal));
    }
}
