using System.Text;
using Microsoft.Extensions.Time.Testing;
using ResponseEngine.Policy.Rules;
using ResponseEngine.Rules;

namespace ResponseEngine.TestKit;

/// <summary>Loads rules from YAML text in memory, the way the loader reads files.</summary>
public static class RuleFiles
{
    public static FakeTimeProvider Clock() => new(Build.Now);

    public static RuleLoad Load(params (string File, string Yaml)[] files) =>
        RuleLoader.Default(Clock()).Load([.. files.Select(f => (f.File, Encoding.UTF8.GetBytes(f.Yaml)))], gitCommit: null);

    public static RuleLoad Load(string yaml, string file = "rules/test/test-rule.yaml") => Load((file, yaml));

    /// <summary>Loads one rule that must be valid, failing with its diagnostics otherwise.</summary>
    public static Rule Valid(string yaml, string file = "rules/test/test-rule.yaml")
    {
        var load = Load(yaml, file);
        if (load.HasErrors || load.Rules.Length != 1)
        {
            throw new InvalidOperationException("rule did not load:\n" + string.Join("\n", load.Diagnostics));
        }

        return load.Rules[0];
    }

    /// <summary>A minimal valid rule with the given condition and actions block.</summary>
    public static string Rule(string id = "test-rule", string? when = null, string actions = "  - action: disable_user", string providers = "[ad]",
        string types = "[weak_password]", string extra = "") =>
        $"""
        id: {id}
        title: test rule
        owner: tests
        mode: enforce
        match:
          types: {types}
          providers: {providers}
        {(when is null ? "" : $"when: \"{when}\"")}
        actions:
        {actions}
        {extra}
        """;
}
