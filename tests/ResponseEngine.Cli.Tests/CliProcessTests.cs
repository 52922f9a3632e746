using ResponseEngine.TestKit;

namespace ResponseEngine.Cli.Tests;

/// <summary>`respond` as a separate process from the repository root, as the README runs it.</summary>
public class CliProcessTests
{
    [Fact]
    public async Task Plan_FromRepositoryRootWithDefaults_PrintsTheSamplePlan()
    {
        var result = await CliProcess.RunAsync(RepoPaths.Root, "plan");

        result.ExitCode.Should().Be(0, result.Error);
        result.Output.Should().StartWith("Plan (dry-run)");
        result.Output.Should().MatchRegex(@"\d+ decisions \(execute \d+, skip \d+, hold \d+, error 0\)");
    }

    [Fact]
    public async Task Validate_BrokenRules_ExitsTwoWithoutStackTrace()
    {
        using var rules = BrokenRules.Write();

        var result = await CliProcess.RunAsync(RepoPaths.Root, "validate", "--rules", rules.Path);

        result.ExitCode.Should().Be(2);
        result.Output.Should().Contain("error RE0001:");
        (result.Output + result.Error).Should().NotContain("Exception");
    }

    [Fact]
    public async Task Test_ShippedRules_ExitsZero()
    {
        var result = await CliProcess.RunAsync(RepoPaths.Root, "test");

        result.ExitCode.Should().Be(0, result.Output);
        result.Output.Should().MatchRegex(@"\d+ passed, 0 failed");
    }

    [Fact]
    public async Task Help_Root_ListsTheCommands()
    {
        var result = await CliProcess.RunAsync(RepoPaths.Root, "--help");

        result.ExitCode.Should().Be(0);
        result.Output.Should().Contain("validate").And.Contain("test").And.Contain("plan").And.Contain("actions").And.Contain("schema");
    }
}
