using System.Collections.Frozen;
using System.Collections.Immutable;
using ResponseEngine.Findings;

namespace ResponseEngine.Rules;

/// <summary>Validated rules, indexed by finding type and provider so a finding meets only the rules that can match it.</summary>
public sealed class RuleSet
{
    private readonly FrozenDictionary<(string Type, Provider Provider), Rule[]> _index;

    public RuleSet(IEnumerable<Rule> rules, string? gitCommit = null)
    {
        Rules = [.. rules.OrderBy(r => r.Id, StringComparer.Ordinal)];
        GitCommit = gitCommit;
        var index = new Dictionary<(string, Provider), List<Rule>>();
        foreach (var rule in Rules.Where(r => r.Mode != RuleMode.Disabled))
        {
            foreach (var type in rule.Match.Types)
            {
                foreach (var provider in rule.Match.Providers)
                {
                    if (!index.TryGetValue((type, provider), out var list)) index[(type, provider)] = list = [];
                    list.Add(rule);
                }
            }
        }

        _index = index.ToFrozenDictionary(kv => kv.Key, kv => kv.Value.ToArray());
    }

    public ImmutableArray<Rule> Rules { get; }

    /// <summary>Commit of the rules' git work tree when they were loaded from one.</summary>
    public string? GitCommit { get; }

    /// <summary>The enabled rules that can match a finding of this type and provider, in id order.</summary>
    public ReadOnlySpan<Rule> Candidates(string type, Provider provider) =>
        _index.TryGetValue((type, provider), out var rules) ? rules : [];
}
