using ResponseEngine.Diagnostics;
using ResponseEngine.TestKit;

namespace ResponseEngine.Core.Tests;

public class DiagnosticTests
{
    [Fact]
    public void EveryCode_IsUniqueAndDocumented()
    {
        var docs = File.ReadAllText(Path.Combine(RepoPaths.Root, "docs", "diagnostics.md"));
        var codes = DiagnosticCodes.All.Select(c => c.Code).ToList();

        codes.Should().OnlyHaveUniqueItems();
        typeof(DiagnosticCodes).GetFields().Where(f => f.IsLiteral).Select(f => (string)f.GetValue(null)!).Should().BeEquivalentTo(codes);
        foreach (var code in codes) docs.Should().Contain($"| {code} |");
    }

    [Fact]
    public void ToString_IsCompilerStyle()
    {
        var diagnostic = Diagnostic.Error(DiagnosticCodes.UnknownKey, new SourceLocation("rules/a.yaml", 3, 7), "unknown key 'titel' in the rule", "did you mean 'title'?");

        diagnostic.ToString().Should().Be("rules/a.yaml:3:7: error RE0002: unknown key 'titel' in the rule; did you mean 'title'?");
    }

    [Theory]
    [InlineData("titel", "title")]
    [InlineData("discription", "description")]
    [InlineData("disable_usr", "disable_user")]
    [InlineData("zzzzzz", null)]
    public void Closest_FindsNearMisses(string input, string? expected)
    {
        Suggest.Closest(input, ["id", "title", "description", "owner", "disable_user"]).Should().Be(expected);
    }
}
