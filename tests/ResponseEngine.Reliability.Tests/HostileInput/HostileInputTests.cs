using System.Globalization;
using System.Text;
using CsCheck;
using ResponseEngine.Diagnostics;
using ResponseEngine.Findings;
using ResponseEngine.Policy.Conditions;
using ResponseEngine.Rules;
using ResponseEngine.TestKit;

namespace ResponseEngine.Reliability.Tests.HostileInput;

/// <summary>
/// Thousands of generated and mutated inputs to the three readers of untrusted text — the rule loader (YAML), the
/// condition compiler (NCalc) and the finding reader (JSON/NDJSON). Each must answer with a result or diagnostics that
/// name the file and position: never an exception, never a hang (a watchdog fails the test naming the input in hand).
/// CsCheck prints the seed of a failing input; RESPOND_RELIABILITY_LONG=1 tries 20 times as many.
/// </summary>
[Trait("Reads", RepoPaths.ReadsShippedRules)]
public sealed class HostileInputTests
{
    private static readonly TimeSpan Limit = TimeSpan.FromMinutes(3);

    private static readonly string[] ShippedRules = [.. Directory.EnumerateFiles(RepoPaths.Rules, "*.yaml", SearchOption.AllDirectories).Order(StringComparer.Ordinal)];

    /// <summary>Fragments that YAML, NCalc and JSON parsers treat specially.</summary>
    private static readonly string[] YamlTokens =
    [
        "&a ", "*a", "!!python/object:os.system ", "!tag ", "{", "}", "[", "]", ": ", "- ", "'", "\"", "\t", "\n", "---\n", "...\n", "%YAML 1.1\n",
        "? ", "|", ">", "#", "\0", "\uFEFF", "\u2028", "\\", "@", "`", "<<: *a\n", "when: ", "actions:\n  - action: ", "with: {groups: [", "limits: ",
        "mode: ", "expires: 2020-01-01", "match:\n  types: [", "tests:\n  - ", "ignore", "disable_user", "identity.privileged", "~", "null", "1e309", "-0",
        "0x7fffffffffffffff", "999999999999999999999999", "\U0001F600", "é", "\r\n", "      ", new string('a', 300), "${RESPOND_SECRET}",
    ];

    private static readonly string[] ConditionTokens =
    [
        "identity.privileged", "identity.guest", "identity.groups", "identity.name", "finding.severity", "finding.type", "finding.age_hours",
        "finding.subject.name", "identity.tags", "member_of(", "has_role(", "has_tag(", "attr(", "has_attr(", "contains(", "starts_with(",
        "matches(", "lower(", "count(", "unknown_fn(", "and", "or", "not", "&&", "||", "!", "==", "!=", "=", "<", "<=", ">", ">=", "+", "-",
        "*", "/", "%", "in", "(", ")", ",", "?", ":", "'high'", "'x'", "\"y\"", "'", "\"", "''", "1", "0", "-1", "1.5", "1e308", "1e309",
        "99999999999999999999999", "true", "false", "null", "[", "]", "{", "}", "#2026-01-01#", "'(a+)+$'", "'['", "\\", ".", "..", "@", "$",
        "identity", "finding.", "x.y.z", "if(", "Sqrt(", "in ()", "'\u0000'", "'\U0001F600'",
    ];

    [Fact]
    public async Task RuleLoader_MutatedShippedRules_OnlyDiagnostics()
    {
        var corpus = ShippedRules.Select(f => (File: Path.GetRelativePath(RepoPaths.Root, f), Text: File.ReadAllText(f))).ToArray();
        var gen = Gen.Select(Gen.Int[0, corpus.Length - 1], Mutations(), (i, mutate) => (corpus[i].File, Text: mutate(corpus[i].Text)));
        var errors = 0;
        var watchdog = await Watchdog.RunAsync(w => gen.Sample(input =>
        {
            w.Begin(input.Text);
            var load = RuleFiles.Load(input.Text, input.File);
            CheckDiagnostics(load.Diagnostics, input.File, input.Text);
            if (load.HasErrors)
            {
                errors++;
                load.RuleSet.Should().BeNull("a rule set with errors is never used");
            }

            w.End();
        }, iter: Reliability.Inputs(3000), threads: 1), Limit);

        Reliability.Record("hostile-input", $"rule files mutated={watchdog.Inputs} rejected-with-diagnostics={errors} crashes=0 hangs=0 slowest={watchdog.Slowest.TotalMilliseconds:0}ms");
    }

    [Fact]
    public async Task RuleLoader_YamlBombsDeepNestingAndHugeFiles_DiagnosticsNamingTheFile()
    {
        var cases = new List<(string Name, string Text)>
        {
            ("billion laughs", BillionLaughs()),
            ("alias bomb in a rule", "id: bomb\ntitle: &t x\nowner: *t\n" + string.Join('\n', Enumerable.Range(0, 2000).Select(i => $"k{i}: *t"))),
            ("merge keys", "base: &b {mode: enforce}\nrule:\n  <<: *b\n"),
            ("flow nesting 100k", new string('[', 100_000) + new string(']', 100_000)),
            ("flow mapping nesting 50k", string.Concat(Enumerable.Repeat("{a: ", 50_000)) + "1" + new string('}', 50_000)),
            ("block nesting 5000", string.Concat(Enumerable.Range(0, 5000).Select(i => new string(' ', i) + "a:\n")) + new string(' ', 5000) + "b"),
            ("2 MiB file", "id: big\ntitle: " + new string('x', 2 * 1024 * 1024) + "\n"),
            ("1000 KiB scalar", "id: big\ntitle: " + new string('x', 1000 * 1024) + "\nowner: o\n"),
            ("100k keys", string.Concat(Enumerable.Range(0, 100_000).Select(i => $"k{i}: v\n"))),
            ("100k actions", "id: many\ntitle: t\nowner: o\nmatch: {types: [x], providers: [ad]}\nactions:\n" + string.Concat(Enumerable.Repeat("  - action: disable_user\n", 100_000))),
            ("many documents", string.Concat(Enumerable.Repeat("---\nid: a\n", 10_000))),
            ("tags", "id: !!python/object/apply:os.system ['id']\n"),
            ("nul bytes", "id: a\0b\ntitle: \0\n"),
            ("lone surrogate", "id: a\ntitle: \ud800\n"),
            ("long condition", "id: c\ntitle: t\nowner: o\nmatch: {types: [x], providers: [ad]}\nwhen: \"" + string.Join(" or ", Enumerable.Repeat("identity.privileged", 3000)) + "\"\nactions:\n  - action: disable_user\n"),
            ("deep parentheses", Rule(new string('(', 5000) + "true" + new string(')', 5000))),
            ("deep not", Rule(string.Concat(Enumerable.Repeat("not ", 990)) + "true")),
            ("deep bang", Rule(new string('!', 3990) + "true")),
            ("deep minus", Rule(new string('-', 3990) + "1 > 0")),
            ("deep brackets", Rule(new string('[', 3000) + "x" + new string(']', 3000) + " == 1")),
            ("catastrophic regex", Rule("matches(identity.name, '(a+)+$')")),
            ("invalid regex", Rule("matches(identity.name, '(')")),
            ("ternary chain", Rule(string.Concat(Enumerable.Repeat("true ? ", 900)) + "true" + string.Concat(Enumerable.Repeat(" : false", 900)))),
            ("long in list", Rule("finding.type in (" + string.Join(", ", Enumerable.Range(0, 1500).Select(i => $"'t{i}'")) + ")")),
        };

        var watchdog = await Watchdog.RunAsync(w =>
        {
            foreach (var (name, text) in cases)
            {
                w.Begin(name);
                var file = $"rules/hostile/{name.Replace(' ', '-')}.yaml";
                var load = RuleFiles.Load(text, file);
                CheckDiagnostics(load.Diagnostics, file, text);
                load.HasErrors.Should().BeTrue($"'{name}' is not a usable rule");
                w.End();
            }
        }, Limit);

        Reliability.Record("hostile-input", $"rule files hand-made={watchdog.Inputs} (bombs, nesting, huge) crashes=0 hangs=0 slowest={watchdog.Slowest.TotalMilliseconds:0}ms ({watchdog.SlowestInput})");
    }

    [Fact]
    public async Task ConditionCompiler_GeneratedExpressions_CompileOrDiagnoseAndEvaluateWithoutCrashing()
    {
        var token = Gen.Int[0, ConditionTokens.Length - 1].Select(i => ConditionTokens[i]);
        var gen = Gen.Frequency(
            (6, token.Array[1, 40].Select(t => string.Join(' ', t))),
            (2, token.Array[1, 12].Select(t => string.Concat(t))),
            (1, Gen.Int[1, 4000].Select(n => new string('(', n) + "true" + new string(')', n))),
            (1, Gen.Int[1, 2000].Select(n => string.Concat(Enumerable.Repeat("not ", n)) + "identity.privileged")),
            (1, Gen.Int[1, 4000].Select(n => new string('!', n) + "true")),
            (1, Gen.Int[1, 4000].Select(n => new string('-', n) + "1 > 0")),
            (1, Gen.Int[1, 800].Select(n => string.Join(" and ", Enumerable.Repeat("identity.privileged", n)))),
            (1, Gen.String.Select(s => s)));
        var finding = Build.Finding(attributes: new { score = 3, tags = new[] { "a", "b" }, note = "x" });
        var identity = Build.Identity("alice", groups: ["Domain Admins"], roles: ["Global Administrator"]);
        int compiled = 0, rejected = 0, evaluationErrors = 0;
        var watchdog = await Watchdog.RunAsync(w => gen.Sample(text =>
        {
            w.Begin(text);
            var bag = new DiagnosticBag();
            var condition = ConditionCompiler.Compile(text, offset => new SourceLocation("rules/x.yaml", 3, 7 + offset), bag);
            CheckDiagnostics([.. bag.Items], "rules/x.yaml", text);
            if (condition is null)
            {
                rejected++;
                bag.Items.Should().Contain(d => d.IsError, $"a condition that does not compile says why: {text}");
            }
            else
            {
                compiled++;
                try
                {
                    condition.Evaluate(new EvaluationContext(finding, identity, Build.Now));
                }
                catch (ConditionException)
                {
                    evaluationErrors++; // recorded on the decision; the run goes on
                }
            }

            w.End();
        }, iter: Reliability.Inputs(5000), threads: 1), Limit);

        Reliability.Record("hostile-input", $"conditions generated={watchdog.Inputs} compiled={compiled} rejected={rejected} evaluation-errors={evaluationErrors} crashes=0 hangs=0 slowest={watchdog.Slowest.TotalMilliseconds:0}ms");
    }

    [Fact]
    public async Task FindingReader_MutatedAndHostileFindings_OnlyDiagnostics()
    {
        var lines = File.ReadAllLines(Path.Combine(RepoPaths.SampleFindings, "itdr-detections.ndjson")).Take(50).ToArray();
        var json = File.ReadAllText(Path.Combine(RepoPaths.SampleFindings, "posture-scan.json"));
        var gen = Gen.Frequency(
            (5, Gen.Select(Gen.Int[0, lines.Length - 1], Mutations(), (i, mutate) => (File: "f.ndjson", Text: mutate(lines[i])))),
            (2, Mutations().Select(mutate => (File: "f.json", Text: mutate(json.Length > 20_000 ? json[..20_000] : json)))),
            (1, Gen.Int[1, 200_000].Select(n => (File: "f.ndjson", Text: new string('[', n) + new string(']', n)))),
            (1, Gen.Int[1, 100_000].Select(n => (File: "f.json", Text: string.Concat(Enumerable.Repeat("{\"a\":", n)) + "1" + new string('}', n)))),
            (1, Gen.Int[1, 300].Select(n => (File: "f.ndjson", Text: "{\"id\":\"x\",\"source\":\"s\",\"type\":\"t\",\"severity\":\"high\",\"observed_at\":\"2026-11-20T08:00:00Z\",\"subject\":{\"provider\":\"ad\",\"name\":\""
                + new string('n', n * 1000) + "\"},\"attributes\":{\"k\":" + new string('9', n * 10) + "}}"))));
        int accepted = 0, diagnosed = 0;
        var watchdog = await Watchdog.RunAsync(w => gen.Sample(input =>
        {
            w.Begin(input.Text);
            var load = FindingReader.ReadText(input.Text, input.File);
            CheckDiagnostics(load.Diagnostics, input.File, input.Text);
            accepted += load.Findings.Length;
            diagnosed += load.Diagnostics.Length;
            w.End();
        }, iter: Reliability.Inputs(3000), threads: 1), Limit);

        Reliability.Record("hostile-input", $"finding files generated={watchdog.Inputs} findings-accepted={accepted} diagnostics={diagnosed} crashes=0 hangs=0 slowest={watchdog.Slowest.TotalMilliseconds:0}ms");
    }

    /// <summary>1 to 5 random edits: delete, duplicate or replace a span, insert a special token, flip a character.</summary>
    private static Gen<Func<string, string>> Mutations()
    {
        var edit = Gen.Select(Gen.Int[0, 4], Gen.Int[0, int.MaxValue], Gen.Int[0, int.MaxValue], Gen.Int[0, YamlTokens.Length - 1], Gen.Char,
            (kind, a, b, token, c) => (Func<string, string>)(text =>
            {
                if (text.Length == 0) return YamlTokens[token];
                var at = a % text.Length;
                var length = Math.Min(text.Length - at, (b % 40) + 1);
                return kind switch
                {
                    0 => text.Remove(at, length),
                    1 => text.Insert(at, text.Substring(at, length)),
                    2 => text.Insert(at, YamlTokens[token]),
                    3 => text[..at] + c + text[(at + 1)..],
                    _ => text.Remove(at, length).Insert(at, YamlTokens[token]),
                };
            }));
        return edit.Array[1, 5].Select(edits => (Func<string, string>)(text => edits.Aggregate(text, (t, e) => e(t))));
    }

    private static string Rule(string when) =>
        "id: hostile\ntitle: t\nowner: o\nmatch: {types: [x], providers: [ad]}\nwhen: \"" + when.Replace("\"", "\\\"", StringComparison.Ordinal) + "\"\nactions:\n  - action: disable_user\n";

    private static string BillionLaughs()
    {
        var text = new StringBuilder("a0: &a0 [\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\"]\n");
        for (var i = 1; i < 10; i++)
        {
            text.Append(CultureInfo.InvariantCulture, $"a{i}: &a{i} [{string.Join(',', Enumerable.Repeat($"*a{i - 1}", 9))}]\n");
        }

        return text.ToString();
    }

    /// <summary>Every diagnostic has a stable code, a message, and names the file (with a line, unless it is about the whole file).</summary>
    private static void CheckDiagnostics(IReadOnlyCollection<Diagnostic> diagnostics, string file, string input)
    {
        foreach (var d in diagnostics)
        {
            d.Code.Should().MatchRegex("^RE[0-9]{4}$", Watchdog.Shorten(input));
            d.Message.Should().NotBeNullOrWhiteSpace(Watchdog.Shorten(input));
            d.Location.File.Should().Be(file, Watchdog.Shorten(input));
            d.Location.Line.Should().BeGreaterThanOrEqualTo(0);
        }
    }
}
