using System.Collections.Frozen;
using System.Collections.Immutable;
using System.Text.Json;
using BenchmarkDotNet.Attributes;
using ResponseEngine.Diagnostics;
using ResponseEngine.Findings;
using ResponseEngine.Identities;
using ResponseEngine.Policy.Conditions;
using ResponseEngine.Rules;

namespace ResponseEngine.Benchmarks;

/// <summary>One compiled condition evaluated repeatedly against one finding and identity: nanoseconds and bytes per evaluation.</summary>
[MemoryDiagnoser]
public class ConditionBenchmarks
{
    public const int Evaluations = 10_000;

    private static readonly FrozenDictionary<string, string> Conditions = new Dictionary<string, string>
    {
        ["privileged_and_severity"] = "identity.privileged and finding.severity >= 'high'",
        ["member_of_and_not_tag"] = "member_of('Domain Admins') and not has_tag('break_glass')",
        ["type_in_set"] = "finding.type in ('password_spray', 'weak_password', 'token_theft')",
        ["role_or_group"] = "has_role('Global Administrator') or member_of('Tier0 Operators')",
        ["attr_number"] = "attr('risk_score') >= 70",
        ["attr_string_eq"] = "attr('reason') == 'breached'",
        ["attr_string_in"] = "attr('country') in ('RU', 'CN', 'KP', 'IR')",
        ["typical_rule"] = "identity.privileged and identity.enabled and not has_tag('break_glass') and attr('risk_score') >= 70",
    }.ToFrozenDictionary(StringComparer.Ordinal);

    private ICondition _condition = null!;
    private EvaluationContext _context;

    [ParamsSource(nameof(Names))]
    public string Condition { get; set; } = "";

    public static IEnumerable<string> Names => Conditions.Keys.Order(StringComparer.Ordinal);

    [GlobalSetup]
    public void Setup()
    {
        var bag = new DiagnosticBag();
        _condition = ConditionCompiler.Compile(Conditions[Condition], _ => new SourceLocation("bench.yaml", 1, 1), bag)
            ?? throw new InvalidOperationException(string.Join(Environment.NewLine, bag.Items));
        var user = new UserEntry(Provider.Ad, "3f2b8c1e-0000-4000-8000-000000000001", "adm-alice")
        {
            Upn = "adm-alice@corp.example",
            Groups = ["Tier0 Operators", "Domain Users"],
            Tags = ["vip"],
        };
        var snapshot = WorkloadGenerator.BuildDirectory(0).Snapshot;
        var groups = snapshot.Groups;
        var identity = DirectorySnapshot.Build([user], groups, PrivilegedPolicy.Default).Users[0];
        var attributes = ImmutableDictionary.CreateRange(StringComparer.Ordinal, new Dictionary<string, JsonElement>
        {
            ["risk_score"] = JsonSerializer.SerializeToElement(85),
            ["reason"] = JsonSerializer.SerializeToElement("breached"),
            ["country"] = JsonSerializer.SerializeToElement("RU"),
        });
        var finding = new Finding("f-1", "itdr", FindingKind.Detection, "weak_password", Severity.High, WorkloadGenerator.Now.AddHours(-2),
            new Subject(Provider.Ad, null, "adm-alice"), "weak password", attributes);
        _context = new EvaluationContext(finding, identity, WorkloadGenerator.Now);
        if (!_condition.Evaluate(_context))
        {
            throw new InvalidOperationException($"condition '{Conditions[Condition]}' should hold for the benchmark context");
        }
    }

    [Benchmark(Description = "Evaluate compiled condition", OperationsPerInvoke = Evaluations)]
    public int Evaluate()
    {
        var hits = 0;
        for (var i = 0; i < Evaluations; i++)
        {
            if (_condition.Evaluate(_context)) hits++;
        }

        return hits;
    }
}
