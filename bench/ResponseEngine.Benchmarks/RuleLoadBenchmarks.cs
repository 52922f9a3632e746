using BenchmarkDotNet.Attributes;
using ResponseEngine.Policy.Rules;

namespace ResponseEngine.Benchmarks;

/// <summary>
/// Loading 1,000 rule files from memory: UTF-8 decode, positioned YAML read, schema checks, NCalc parse and condition
/// compile, parameter binding, inline-test parsing, SHA-256 content hash, and the rule index.
/// </summary>
[MemoryDiagnoser]
public class RuleLoadBenchmarks
{
    public const int RuleCount = 1_000;

    private List<(string File, byte[] Bytes)> _sources = [];
    private RuleLoader _loader = null!;

    /// <summary>Rules as shipped carry two inline tests each; without them shows what the tests cost to parse.</summary>
    [Params(true, false)]
    public bool WithTests { get; set; }

    [GlobalSetup]
    public void Setup()
    {
        _sources = WorkloadGenerator.Rules(RuleCount, WithTests);
        _loader = RuleLoader.Default(Workload.Time);
        _ = Workload.LoadRules(_sources); // throws with every diagnostic if a generated rule does not validate
    }

    [Benchmark(Description = "Load 1,000 rules")]
    public int Load1000Rules()
    {
        var load = _loader.Load(_sources, "0000000000000000000000000000000000000000");
        return load.Rules.Length;
    }
}
