using System.Collections.Frozen;
using System.Collections.Immutable;
using ResponseEngine.Findings;

namespace ResponseEngine.Rules;

/// <summary>
/// Validated rules, indexed by finding type, provider and severity so a finding meets only the rules that can match it:
/// each rule under its <see cref="Rule.IndexMatch"/>, its <c>match:</c> narrowed by the type, provider and severity tests
/// its <c>when:</c> requires of every finding (<c>finding.type == 'x' and …</c> is filed as if it had declared the type).
/// </summary>
public sealed class RuleSet
{
    private static readonly int Levels = Enum.GetValues<Severity>().Length;

    /// <summary>Per (type, provider), per severity level, the rules a finding of that severity can meet, in id order.</summary>
    private readonly FrozenDictionary<(string Type, Provider Provider), Rule[][]> _index;

    public RuleSet(IEnumerable<Rule> rules, string? gitCommit = null, IEnumerable<string>? uncommittedFiles = null)
    {
        Rules = [.. rules.OrderBy(r => r.Id, StringComparer.Ordinal)];
        GitCommit = gitCommit;
        UncommittedFiles = [.. (uncommittedFiles ?? []).Order(StringComparer.Ordinal)];
        var index = new Dictionary<(string, Provider), List<(Rule Rule, Severity Min)>>();
        foreach (var rule in Rules.Where(r => r.Mode != RuleMode.Disabled))
        {
            var match = rule.IndexMatch;
            foreach (var type in match.Types)
            {
                foreach (var provider in match.Providers)
                {
                    if (!index.TryGetValue((type, provider), out var list)) index[(type, provider)] = list = [];
                    list.Add((rule, match.MinSeverity));
                }
            }
        }

        _index = index.ToFrozenDictionary(kv => kv.Key, kv => Enumerable.Range(0, Levels)
            .Select(level => kv.Value.Where(r => (int)r.Min <= level).Select(r => r.Rule).ToArray()).ToArray());
    }

    public ImmutableArray<Rule> Rules { get; }

    /// <summary>Commit of the rules' git work tree when they were loaded from one.</summary>
    public string? GitCommit { get; }

    /// <summary>Files under the rules folder that differ from <see cref="GitCommit"/> (modified, added, deleted, untracked); empty when clean.</summary>
    public ImmutableArray<string> UncommittedFiles { get; }

    /// <summary>"at commit a6e656e + uncommitted changes to 2 files", "at commit a6e656e", or null outside git: what a plan or run says.</summary>
    public string? ProvenanceText => Provenance(GitCommit, UncommittedFiles.Length);

    /// <summary>The provenance sentence for a commit and a count of uncommitted files.</summary>
    public static string? Provenance(string? commit, int uncommitted) => commit is null ? null
        : $"at commit {commit[..Math.Min(7, commit.Length)]}" + (uncommitted == 0 ? "" : $" + uncommitted changes to {uncommitted} file{(uncommitted == 1 ? "" : "s")}");

    /// <summary>What the audit records as the rules' commit: the commit, with "+dirty" when the work tree had uncommitted rule changes.</summary>
    public static string? RecordedCommit(string? commit, bool dirty) => commit is null ? null : dirty ? commit + "+dirty" : commit;

    /// <summary>The enabled rules that can match a finding of this type and provider (of any severity), in id order.</summary>
    public ReadOnlySpan<Rule> Candidates(string type, Provider provider) =>
        _index.TryGetValue((type, provider), out var rules) ? rules[^1] : [];

    /// <summary>The enabled rules that can match a finding of this type, provider and severity, in id order.</summary>
    public ReadOnlySpan<Rule> Candidates(string type, Provider provider, Severity severity) =>
        _index.TryGetValue((type, provider), out var rules) && (uint)severity < (uint)rules.Length ? rules[(int)severity] : [];
}
