using System.Diagnostics;
using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;
using ResponseEngine.Findings;
using ResponseEngine.Identities;
using ResponseEngine.Planning;
using ResponseEngine.Rules;

namespace ResponseEngine.Benchmarks.Peer;

/// <summary>
/// ResponseEngine's side of the peer comparison (bench/peer/run.sh):
/// <list type="bullet">
/// <item><c>--peer-export DIR</c> converts the benchmark's enabled generated rules into json-logic-js and json-rules-engine
/// form, exports the findings with the identity facts the peers need, and writes which rules ResponseEngine picks for
/// each finding (<c>expected.txt</c>, one line per finding: rule indexes) for the Node side to check against.</item>
/// <item><c>--peer-time DIR</c> times ResponseEngine on the same work, warm, and writes <c>responseengine.jsonl</c>: the
/// evaluator with the index, the evaluator with no index (every rule against every finding, as json-logic-js is driven),
/// and the real <see cref="Planner.Plan(IReadOnlyList{Finding}, DateTimeOffset, IProgress{int}?)"/>, which also builds
/// the decisions.</item>
/// </list>
/// "The work" is the same for every engine: for each of the 100,000 findings, decide which of the converted rules pick
/// it (type, provider, minimum severity, resolved identity, <c>when:</c>). Throughput is findings x rules / second.
/// ResponseEngine resolves the subject in the directory snapshot inside the timed region; the peers get the identity
/// already joined into their facts.
/// </summary>
public static class PeerComparison
{
    private static readonly JsonSerializerOptions Compact = new() { WriteIndented = false, Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping };

    public static int Run(string[] args)
    {
        var export = Value(args, "--peer-export");
        var time = Value(args, "--peer-time");
        var passes = int.Parse(Value(args, "--passes") ?? "7", CultureInfo.InvariantCulture);
        var findingCount = int.Parse(Value(args, "--findings") ?? EvaluationBenchmarks.FindingCount.ToString(CultureInfo.InvariantCulture), CultureInfo.InvariantCulture);
        var clock = Stopwatch.StartNew();
        var workload = Workload.Create(EvaluationBenchmarks.RuleCount, EvaluationBenchmarks.UserCount, findingCount);
        var (rules, left) = Convertible(workload.Rules);
        Console.Error.WriteLine($"workload: {workload.Rules.Rules.Length} rules ({rules.Count} enabled and convertible, {left.Count} left out), " +
            $"{workload.Findings.Length:N0} findings, {workload.Snapshot.Users.Length:N0} users, built in {clock.ElapsedMilliseconds} ms");
        foreach (var (id, why) in left) Console.Error.WriteLine($"  left out {id}: {why}");

        if (export is not null) Export(export, workload, rules);
        if (time is not null) Time(time, workload, rules, passes);
        return 0;
    }

    /// <summary>The enabled rules, in id order, each converted to both peer formats (rules that do not convert are left out).</summary>
    private static (List<(Rule Rule, JsonNode Logic, JsonNode RulesEngine)> Rules, List<(string Id, string Why)> Left) Convertible(RuleSet set)
    {
        var rules = new List<(Rule, JsonNode, JsonNode)>();
        var left = new List<(string, string)>();
        foreach (var rule in set.Rules)
        {
            if (rule.Mode == RuleMode.Disabled)
            {
                left.Add((rule.Id, "disabled (no engine evaluates it)"));
                continue;
            }

            try
            {
                rules.Add((rule, PeerConditionConverter.ToJsonLogic(rule), PeerConditionConverter.ToJsonRulesEngine(rule, rules.Count)));
            }
            catch (NotSupportedException e)
            {
                left.Add((rule.Id, e.Message));
            }
        }

        return (rules, left);
    }

    private static void Export(string directory, Workload workload, List<(Rule Rule, JsonNode Logic, JsonNode RulesEngine)> rules)
    {
        Directory.CreateDirectory(directory);
        File.WriteAllText(Path.Combine(directory, "rules-json-logic.json"), new JsonArray([.. rules.Select(r => r.Logic.DeepClone())]).ToJsonString(Compact));
        File.WriteAllText(Path.Combine(directory, "rules-json-rules-engine.json"), new JsonArray([.. rules.Select(r => r.RulesEngine.DeepClone())]).ToJsonString(Compact));
        File.WriteAllLines(Path.Combine(directory, "rule-ids.txt"), rules.Select(r => r.Rule.Id));

        var now = WorkloadGenerator.Now;
        using (var stream = File.Create(Path.Combine(directory, "facts.json")))
        using (var writer = new Utf8JsonWriter(stream))
        {
            writer.WriteStartArray();
            foreach (var finding in workload.Findings)
            {
                var identity = workload.Snapshot.Resolve(finding.Subject).Identity;
                writer.WriteStartObject();
                writer.WriteString("id", finding.Id);
                writer.WriteString("type", finding.Type);
                writer.WriteString("provider", finding.Subject.Provider.Name());
                writer.WriteNumber("severity", (int)finding.Severity);
                writer.WriteNumber("age_hours", (now - finding.ObservedAt).TotalHours);
                writer.WriteBoolean("resolved", identity is not null);
                writer.WriteBoolean("privileged", identity?.Privileged ?? false);
                writer.WriteBoolean("enabled", identity?.Enabled ?? false);
                writer.WriteBoolean("guest", identity?.Guest ?? false);
                WriteStrings(writer, "groups", identity?.TransitiveGroups.Order(StringComparer.Ordinal) ?? Enumerable.Empty<string>());
                WriteStrings(writer, "roles", identity?.RoleSet.Order(StringComparer.Ordinal) ?? Enumerable.Empty<string>());
                WriteStrings(writer, "tags", identity?.Tags ?? []);
                foreach (var (key, value) in finding.Attributes.OrderBy(a => a.Key, StringComparer.Ordinal))
                {
                    writer.WritePropertyName("attr_" + key);
                    value.WriteTo(writer);
                }

                writer.WriteEndObject();
            }

            writer.WriteEndArray();
        }

        // What ResponseEngine picks, per finding, as indexes into the converted rule list.
        var index = rules.Select((r, i) => (r.Rule.Id, i)).ToDictionary(p => p.Id, p => p.i, StringComparer.Ordinal);
        var set = new RuleSet(rules.Select(r => r.Rule));
        var lines = new string[workload.Findings.Length];
        var picked = new List<int>();
        long total = 0;
        for (var i = 0; i < workload.Findings.Length; i++)
        {
            picked.Clear();
            Match(set, [], indexed: true, workload.Snapshot, workload.Findings[i], now, rule => picked.Add(index[rule.Id]));
            picked.Sort();
            total += picked.Count;
            lines[i] = string.Join(',', picked);
        }

        File.WriteAllLines(Path.Combine(directory, "expected.txt"), lines);
        Console.Error.WriteLine($"exported {rules.Count} rules x {workload.Findings.Length:N0} findings to {directory}; ResponseEngine picks {total:N0} (finding, rule) pairs");
    }

    private static void WriteStrings(Utf8JsonWriter writer, string name, IEnumerable<string> items)
    {
        writer.WriteStartArray(name);
        foreach (var item in items) writer.WriteStringValue(item);
        writer.WriteEndArray();
    }

    /// <summary>
    /// ResponseEngine's decision for one finding. With <paramref name="indexed"/>, exactly as <c>Planner</c> makes it
    /// before building decisions: the type/provider index, minimum severity, the subject resolved in the snapshot (fail
    /// closed), the compiled condition. Without it, every rule of <paramref name="all"/>, in id order, is tested against
    /// the finding — type, provider and minimum severity first, then the condition — the way json-logic-js is driven
    /// (its converted rules test type, provider and severity themselves). The identity is resolved once per finding, at
    /// the first rule that matches.
    /// </summary>
    private static int Match(RuleSet rules, Rule[] all, bool indexed, DirectorySnapshot snapshot, Finding finding, DateTimeOffset now, Action<Rule>? onPick)
    {
        ReadOnlySpan<Rule> candidates = indexed ? rules.Candidates(finding.Type, finding.Subject.Provider, finding.Severity) : all;
        Identity? identity = null;
        var resolved = false;
        var picked = 0;
        foreach (var rule in candidates)
        {
            if (indexed ? finding.Severity < rule.Match.MinSeverity : !rule.Matches(finding)) continue;
            if (!resolved)
            {
                identity = snapshot.Resolve(finding.Subject).Identity;
                resolved = true;
            }

            if (identity is null) return picked;
            if (rule.When is not null)
            {
                try
                {
                    if (!rule.When.Evaluate(new EvaluationContext(finding, identity, now))) continue;
                }
                catch (ConditionException)
                {
                    continue;
                }
            }

            picked++;
            onPick?.Invoke(rule);
        }

        return picked;
    }

    /// <summary>The (finding, rule) pairs a plan proposes an action for (decisions with an identity, not condition errors).</summary>
    private static long PlannedPairs(Plan plan)
    {
        var pairs = new HashSet<(string, string)>();
        foreach (var decision in plan.Decisions)
        {
            if (decision.Identity is not null && decision.Verdict != Verdict.Error) pairs.Add((decision.Finding.Id, decision.Rule.Id));
        }

        return pairs.Count;
    }

    private static void Time(string directory, Workload workload, List<(Rule Rule, JsonNode Logic, JsonNode RulesEngine)> rules, int passes)
    {
        var set = new RuleSet(rules.Select(r => r.Rule));
        var all = set.Rules.ToArray();
        var findings = workload.Findings;
        var snapshot = workload.Snapshot;
        var now = WorkloadGenerator.Now;
        var planner = new Planner(set, snapshot, Workload.Time);
        var rows = new List<JsonObject>();

        long Picked(bool indexed)
        {
            long picked = 0;
            foreach (var finding in findings) picked += Match(set, all, indexed, snapshot, finding, now, null);
            return picked;
        }

        long WithIndex() => Picked(indexed: true);
        long WithoutIndex() => Picked(indexed: false);

        long RealPlanner() => PlannedPairs(planner.Plan(findings, now));

        var expected = WithIndex();
        var withoutIndex = WithoutIndex();
        if (withoutIndex != expected) throw new InvalidOperationException($"without the index {withoutIndex} picks, with it {expected}");
        var planned = RealPlanner();
        Console.Error.WriteLine($"Planner.Plan proposes actions for {planned:N0} (finding, rule) pairs of the {expected:N0} picked (a rule whose actions all act on linked accounts proposes none without a linker)");

        rows.Add(TimeRow("ResponseEngine evaluator + index", findings.Length, rules.Count, passes, expected, WithIndex));
        rows.Add(TimeRow("ResponseEngine evaluator, no index", findings.Length, rules.Count, passes, expected, WithoutIndex));
        rows.Add(TimeRow("ResponseEngine Planner.Plan", findings.Length, rules.Count, passes, planned, RealPlanner));

        Directory.CreateDirectory(directory);
        File.WriteAllLines(Path.Combine(directory, "responseengine.jsonl"), rows.Select(r => r.ToJsonString(Compact)));
    }

    /// <summary>One engine row: warm (≥ 4 passes and ≥ 2 s, tiered JIT), then <paramref name="passes"/> timed passes, wall and process CPU.</summary>
    private static JsonObject TimeRow(string engine, int findings, int rules, int passes, long expected, Func<long> pass)
    {
        var warm = Stopwatch.StartNew();
        for (var i = 0; i < 4 || warm.Elapsed < TimeSpan.FromSeconds(2); i++) pass();

        var times = new List<double>(passes);
        var cpuTimes = new List<double>(passes);
        var process = Process.GetCurrentProcess();
        for (var i = 0; i < passes; i++)
        {
            process.Refresh();
            var cpu = process.TotalProcessorTime;
            var clock = Stopwatch.StartNew();
            var picked = pass();
            times.Add(clock.Elapsed.TotalMilliseconds);
            process.Refresh();
            cpuTimes.Add((process.TotalProcessorTime - cpu).TotalMilliseconds);
            if (picked != expected) throw new InvalidOperationException($"{engine}: pass {i} picked {picked}, expected {expected}");
        }

        times.Sort();
        cpuTimes.Sort();
        var median = times[times.Count / 2];
        var cpuMedian = cpuTimes[cpuTimes.Count / 2];
        var pairs = (long)findings * rules;
        Console.Error.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"{engine}: {findings:N0} findings x {rules} rules in {median:F1} ms median of {passes} (best {times[0]:F1}; process CPU {cpuMedian:F1} ms median, min {cpuTimes[0]:F1}, max {cpuTimes[^1]:F1}), {pairs / (median / 1000.0) / 1e6:F1} M pairs/s, picked {expected:N0}"));
        return new JsonObject
        {
            ["engine"] = engine,
            ["version"] = typeof(Rule).Assembly.GetName().Version?.ToString(),
            ["runtime"] = System.Runtime.InteropServices.RuntimeInformation.FrameworkDescription,
            ["findings"] = findings,
            ["rules"] = rules,
            ["picked"] = expected,
            ["passes"] = passes,
            ["median_ms"] = Math.Round(median, 3),
            ["best_ms"] = Math.Round(times[0], 3),
            ["pairs_per_second"] = Math.Round(pairs / (median / 1000.0)),
            ["cpu_median_ms"] = Math.Round(cpuMedian, 3),
            ["cpu_min_ms"] = Math.Round(cpuTimes[0], 3),
            ["cpu_max_ms"] = Math.Round(cpuTimes[^1], 3),
            ["cpu_pairs_per_second"] = Math.Round(pairs / (Math.Max(cpuMedian, 0.001) / 1000.0)),
            ["findings_per_second"] = Math.Round(findings / (median / 1000.0)),
        };
    }

    private static string? Value(string[] args, string name)
    {
        var at = Array.IndexOf(args, name);
        return at >= 0 && at + 1 < args.Length ? args[at + 1] : null;
    }
}
