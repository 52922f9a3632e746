using ResponseEngine.Findings;
using ResponseEngine.Identities;
using ResponseEngine.Policy.Rules;
using ResponseEngine.Rules;

namespace ResponseEngine.Benchmarks;

/// <summary>Rules loaded and validated, a directory snapshot and findings: everything a plan needs, built once per benchmark process.</summary>
public sealed class Workload
{
    private Workload(RuleSet rules, GeneratedDirectory directory, Finding[] findings)
    {
        Rules = rules;
        Directory = directory;
        Findings = findings;
    }

    public static TimeProvider Time { get; } = new FixedTimeProvider(WorkloadGenerator.Now);

    public RuleSet Rules { get; }

    public GeneratedDirectory Directory { get; }

    public DirectorySnapshot Snapshot => Directory.Snapshot;

    public Finding[] Findings { get; }

    public static Workload Create(int ruleCount, int userCount, int findingCount)
    {
        var rules = LoadRules(WorkloadGenerator.Rules(ruleCount));
        var directory = WorkloadGenerator.BuildDirectory(userCount);
        var findings = WorkloadGenerator.Findings(directory, findingCount);
        return new Workload(rules, directory, findings);
    }

    /// <summary>Loads generated rules and fails loudly (with every diagnostic) if any does not validate.</summary>
    public static RuleSet LoadRules(IReadOnlyList<(string File, byte[] Bytes)> sources)
    {
        var load = RuleLoader.Default(Time).Load(sources, "0000000000000000000000000000000000000000");
        if (load.HasErrors || load.RuleSet is null)
        {
            var errors = string.Join(Environment.NewLine, load.Diagnostics.Where(d => d.IsError).Take(50).Select(d => d.ToString()));
            throw new InvalidOperationException($"generated rules do not validate ({load.ErrorCount} errors):{Environment.NewLine}{errors}");
        }

        if (load.Rules.Length != sources.Count)
        {
            throw new InvalidOperationException($"loaded {load.Rules.Length} of {sources.Count} generated rules");
        }

        return load.RuleSet;
    }

    /// <summary>How many (finding, rule) pairs survive the type/provider index and reach severity and condition checks.</summary>
    public long CandidatePairs()
    {
        long pairs = 0;
        foreach (var finding in Findings) pairs += Rules.Candidates(finding.Type, finding.Subject.Provider).Length;
        return pairs;
    }
}
