using ResponseEngine.Actions;
using ResponseEngine.Findings;
using ResponseEngine.Identities;
using ResponseEngine.Policy.Rules;
using ResponseEngine.Policy.Testing;
using ResponseEngine.Policy.Yaml;
using ResponseEngine.TestKit;

namespace ResponseEngine.Policy.Tests;

/// <summary>The rule set we ship: it loads cleanly, its tests pass, it covers the catalogue, and it matches the published schema.</summary>
[Trait("Reads", RepoPaths.ReadsShippedRules)]
public class ShippedRulesTests
{
    private static readonly RuleLoad Load = RuleLoader.Default(RuleFiles.Clock()).LoadDirectory(RepoPaths.Rules);

    [Fact]
    public void ShippedRules_LoadWithoutErrorsOrWarnings()
    {
        Load.Diagnostics.Should().BeEmpty(string.Join("\n", Load.Diagnostics));
        Load.Rules.Length.Should().BeGreaterThanOrEqualTo(12);
    }

    [Fact]
    public void ShippedRules_EveryInlineTestPasses()
    {
        var results = new RuleTestRunner(PrivilegedPolicy.Default).Run(Load.Rules);

        results.Should().NotBeEmpty();
        results.Where(r => !r.Passed).Select(r => $"{r.Rule.Id} › {r.Test.Name}: {r.Problem}").Should().BeEmpty();
    }

    [Fact]
    public void ShippedRules_CoverEveryActionAndProvider()
    {
        Load.Rules.SelectMany(r => r.Actions).Select(a => a.Action.Name).Distinct().Should().BeEquivalentTo(ActionCatalogue.Default.Names);
        Load.Rules.SelectMany(r => r.Match.Providers).Distinct().Should().BeEquivalentTo(Providers.All);
    }

    [Fact]
    public void ShippedRules_EachHasPositiveAndNegativeTests()
    {
        foreach (var rule in Load.Rules)
        {
            rule.Tests.Should().Contain(t => !t.Expected.IsEmpty, rule.Id);
            rule.Tests.Should().Contain(t => t.Expected.IsEmpty, rule.Id);
        }
    }

    [Fact]
    public void ShippedRuleFiles_StartWithTheSchemaLineAndValidateAgainstTheSchema()
    {
        foreach (var file in Directory.EnumerateFiles(RepoPaths.Rules, "*.yaml", SearchOption.AllDirectories))
        {
            var text = File.ReadAllText(file);
            text.Should().StartWith("# yaml-language-server: $schema=../../schemas/rule.schema.json\n", file);
            var bag = new Diagnostics.DiagnosticBag();
            var json = YamlJson.ToJson(YamlDocumentReader.Read(text, file, bag)!)!.ToJsonString();
            SchemaValidator.Validate("rule", json).Should().BeEmpty(file);
        }
    }

    [Fact]
    public void RuleSchema_RejectsWhatTheLoaderRejectsStructurally()
    {
        var broken = new[]
        {
            RuleFiles.Rule().Replace("owner: tests", "ownr: tests"),
            RuleFiles.Rule().Replace("mode: enforce", "mode: enforced"),
            RuleFiles.Rule(actions: "  - action: disable_usr"),
            RuleFiles.Rule(actions: "  - action: revoke_group\n    with: { group: [x] }"),
            RuleFiles.Rule(providers: "[gsuite]"),
            RuleFiles.Rule(extra: "limits: { cooldown: a day }"),
        };

        foreach (var yaml in broken)
        {
            RuleFiles.Load(yaml).HasErrors.Should().BeTrue(yaml);
            var json = YamlJson.ToJson(YamlDocumentReader.Read(yaml, "x.yaml", new Diagnostics.DiagnosticBag())!)!.ToJsonString();
            SchemaValidator.Validate("rule", json).Should().NotBeEmpty(yaml);
        }
    }
}
