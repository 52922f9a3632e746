using BenchmarkDotNet.Attributes;
using ResponseEngine.Findings;
using ResponseEngine.Guards;
using ResponseEngine.Identities;
using ResponseEngine.Planning;

namespace ResponseEngine.Benchmarks;

/// <summary>
/// 100,000 findings against 200 rules and a 10,000-user snapshot: the whole plan, and its stages per finding
/// (identity resolution, rule evaluation without guards) so that time and bytes per finding are visible.
/// </summary>
[MemoryDiagnoser]
public class EvaluationBenchmarks
{
    public const int RuleCount = 200;
    public const int UserCount = 10_000;
    public const int FindingCount = 100_000;
    public const int DecisionCount = 100_000;

    private Workload _workload = null!;
    private Finding[] _findings = [];
    private Identity?[] _identities = [];
    private Planner _planner = null!;
    private readonly List<Decision> _sink = new(64);
    private Decision[] _proposed = [];
    private static readonly IGuard[] StaticGuards = [new RuleModeGuard(), new ProtectedIdentityGuard(new Configuration.ProtectedIdentityOptions()), new PreconditionGuard()];
    private GuardContext _guardContext = null!;

    [GlobalSetup]
    public void Setup()
    {
        _workload = Workload.Create(RuleCount, UserCount, FindingCount);
        _findings = _workload.Findings;
        _identities = [.. _findings.Select(f => _workload.Snapshot.Resolve(f.Subject).Identity)];
        _planner = new Planner(_workload.Rules, _workload.Snapshot, Workload.Time);
        _guardContext = new GuardContext(WorkloadGenerator.Now, PrivilegedPolicy.Default);
        var proposed = new List<Decision>();
        for (var i = 0; i < _findings.Length && proposed.Count < DecisionCount; i++)
        {
            if (_identities[i] is not { } identity) continue;
            foreach (var rule in _workload.Rules.Candidates(_findings[i].Type, _findings[i].Subject.Provider))
            {
                Planner.Evaluate(rule, _findings[i], identity, WorkloadGenerator.Now, proposed);
            }
        }

        _proposed = [.. proposed.Take(DecisionCount)];
        if (_proposed.Length != DecisionCount) throw new InvalidOperationException($"only {_proposed.Length} proposed decisions");
    }

    /// <summary>Planner.Plan end to end: index lookup, identity resolution, severity, condition, proposed decisions (the executor guards them).</summary>
    [Benchmark(Description = "Plan 100k findings x 200 rules")]
    public int Plan100kFindings() => _planner.Plan(_findings).Decisions.Length;

    /// <summary>The same plan, reported per finding.</summary>
    [Benchmark(Description = "Plan, per finding", OperationsPerInvoke = FindingCount)]
    public int PlanPerFinding() => _planner.Plan(_findings).Decisions.Length;

    /// <summary>Planner.Evaluate for every candidate rule of every finding, identities already resolved, no guards.</summary>
    [Benchmark(Description = "Evaluate candidate rules, per finding", OperationsPerInvoke = FindingCount)]
    public int EvaluatePerFinding()
    {
        var now = WorkloadGenerator.Now;
        var rules = _workload.Rules;
        var decisions = 0;
        for (var i = 0; i < _findings.Length; i++)
        {
            var identity = _identities[i];
            if (identity is null) continue;
            var finding = _findings[i];
            foreach (var rule in rules.Candidates(finding.Type, finding.Subject.Provider))
            {
                Planner.Evaluate(rule, finding, identity, now, _sink);
            }

            decisions += _sink.Count;
            _sink.Clear();
        }

        return decisions;
    }

    /// <summary>DirectorySnapshot.Resolve for every finding's subject (2% unknown).</summary>
    [Benchmark(Description = "Resolve identity, per finding", OperationsPerInvoke = FindingCount)]
    public int ResolvePerFinding()
    {
        var found = 0;
        foreach (var finding in _findings)
        {
            if (_workload.Snapshot.Resolve(finding.Subject).Identity is not null) found++;
        }

        return found;
    }

    /// <summary>The executor's state-free guards (rule mode, protected identities, action preconditions) on 100,000 proposed decisions.</summary>
    [Benchmark(Description = "Static guards, per decision", OperationsPerInvoke = DecisionCount)]
    public int GuardsPerDecision()
    {
        var executed = 0;
        foreach (var decision in _proposed)
        {
            var guarded = decision;
            foreach (var guard in StaticGuards)
            {
                if (guarded.Verdict != Verdict.Execute) break;
                guarded = guard.Check(guarded, _guardContext);
            }

            if (guarded.Verdict == Verdict.Execute) executed++;
        }

        return executed;
    }
}
