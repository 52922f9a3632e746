using System.Globalization;
using ResponseEngine.Diagnostics;
using ResponseEngine.TestKit;

namespace ResponseEngine.Policy.Tests;

/// <summary>The per-file cap on diagnostics: the first problems unchanged, the rest counted in one line, the verdict kept.</summary>
public class DiagnosticLimitTests
{
    /// <summary>Just under the 1 MiB file limit: about 100,000 unknown keys, one diagnostic each before the cap.</summary>
    private static string UnknownKeys(int count) =>
        string.Concat(Enumerable.Range(0, count).Select(i => string.Create(CultureInfo.InvariantCulture, $"k{i}: v\n")));

    [Fact]
    public void Load_FileOfHundredThousandUnknownKeys_ShowsTheFirstHundredThenOneCountingLine()
    {
        const int keys = 100_000;
        var text = UnknownKeys(keys);
        text.Length.Should().BeLessThan(1024 * 1024, "the file is within the size limit, so every key is read");

        var load = RuleFiles.Load(text, "rules/x/big.yaml");

        load.Diagnostics.Should().HaveCount(DiagnosticLimit.PerFile + 1);
        var shown = load.Diagnostics.Take(DiagnosticLimit.PerFile).ToList();
        // Line order: the missing fields are reported at the top of the mapping (1:1), the unknown keys line by line.
        shown.Select(d => (d.Location.Line, d.Location.Column)).Should().BeInAscendingOrder();
        var missing = shown.Count(d => d.Code == DiagnosticCodes.MissingField);
        missing.Should().BeGreaterThan(0, "id, title, owner, … are missing and are among the first problems");
        shown.Where(d => d.Code == DiagnosticCodes.UnknownKey).Select(d => (d.Location.Line, d.Message)).Should().Equal(
            Enumerable.Range(0, DiagnosticLimit.PerFile - missing).Select(i => (i + 1, $"unknown key 'k{i}' in the rule")));
        var summary = load.Diagnostics[^1];
        summary.Code.Should().Be(DiagnosticCodes.TooManyProblems);
        summary.IsError.Should().BeTrue();
        var hidden = keys - (DiagnosticLimit.PerFile - missing);
        summary.Location.Should().Be(new SourceLocation("rules/x/big.yaml", DiagnosticLimit.PerFile - missing + 1, 1), "it points at the first problem not shown");
        summary.Message.Should().Be($"{hidden.ToString("N0", CultureInfo.InvariantCulture)} more problems in this file not shown ({hidden.ToString("N0", CultureInfo.InvariantCulture)} errors, 0 warnings), from here on");
        load.ErrorCount.Should().Be(keys + missing, "the totals count every problem, shown or not");
        load.HiddenErrors.Should().Be(hidden);
        load.HasErrors.Should().BeTrue();
        load.RuleSet.Should().BeNull();
    }

    [Fact]
    public void Load_TwoFilesOneOverTheLimit_OnlyThatFileIsCapped()
    {
        var load = RuleFiles.Load(("rules/x/a-big.yaml", UnknownKeys(300)), ("rules/x/b-small.yaml", RuleFiles.Rule(id: "b-small") + "titel: x\n"));

        var big = load.Diagnostics.Where(d => d.Location.File == "rules/x/a-big.yaml").ToList();
        big.Should().HaveCount(DiagnosticLimit.PerFile + 1);
        big[^1].Code.Should().Be(DiagnosticCodes.TooManyProblems);
        load.Diagnostics.Where(d => d.Location.File == "rules/x/b-small.yaml").Select(d => d.Code)
            .Should().Contain(DiagnosticCodes.UnknownKey).And.NotContain(DiagnosticCodes.TooManyProblems);
    }

    [Fact]
    public void Load_ExactlyTheLimit_NoSummary()
    {
        var load = RuleFiles.Load(UnknownKeys(DiagnosticLimit.PerFile - 6), "rules/x/edge.yaml");

        load.Diagnostics.Length.Should().BeLessThanOrEqualTo(DiagnosticLimit.PerFile);
        load.Diagnostics.Should().NotContain(d => d.Code == DiagnosticCodes.TooManyProblems);
        load.ErrorCount.Should().Be(load.Diagnostics.Length);
    }

    [Fact]
    public void Apply_OnlyWarningsHidden_SummaryIsAWarningAndTheVerdictStaysClean()
    {
        var warnings = Enumerable.Range(1, 150).Select(i => Diagnostic.Warning(DiagnosticCodes.RuleExpired, new SourceLocation("f.yaml", i, 1), "w")).ToList();

        var limited = DiagnosticLimit.Apply(warnings);

        limited.Shown.Should().HaveCount(DiagnosticLimit.PerFile + 1);
        limited.Shown[^1].IsError.Should().BeFalse("hiding warnings must not turn a usable input into a failing one");
        limited.Shown[^1].Message.Should().StartWith("50 more problems in this file not shown (0 errors, 50 warnings)");
        limited.WarningCount.Should().Be(150);
        limited.ErrorCount.Should().Be(0);
    }

    [Fact]
    public void Apply_ErrorOnlyAmongTheHidden_SummaryIsAnError()
    {
        var items = Enumerable.Range(1, 120).Select(i => i == 120
            ? Diagnostic.Error(DiagnosticCodes.UnknownKey, new SourceLocation("f.yaml", i, 1), "e")
            : Diagnostic.Warning(DiagnosticCodes.RuleExpired, new SourceLocation("f.yaml", i, 1), "w")).ToList();

        var limited = DiagnosticLimit.Apply(items);

        limited.Shown.Take(DiagnosticLimit.PerFile).Should().OnlyContain(d => !d.IsError);
        limited.Shown[^1].IsError.Should().BeTrue("an error among the hidden keeps the input failing (exit 2)");
        limited.ErrorCount.Should().Be(1);
        limited.WarningCount.Should().Be(119);
    }
}
