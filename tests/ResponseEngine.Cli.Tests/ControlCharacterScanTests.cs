using System.Globalization;
using System.Text;
using System.Text.Json;
using Microsoft.Data.Sqlite;
using Microsoft.Extensions.Time.Testing;
using ResponseEngine.TestKit;

namespace ResponseEngine.Cli.Tests;

/// <summary>
/// Issue #22: data reaches the terminal only escaped. Findings, a directory and rules carry every C0 and C1 control, DEL,
/// line and paragraph separators and bidirectional overrides in every string a user's data can set; every text output
/// (plan, run summary, audit list and show, diagnostics on standard error) is scanned for a raw one, and a newline in
/// data must not forge a line of its own.
/// </summary>
public sealed class ControlCharacterScanTests : IDisposable
{
    /// <summary>What data may not put on a terminal raw: C0, DEL, C1, U+2028/U+2029 and the bidirectional controls.</summary>
    private static readonly string Hostile = new([
        .. Enumerable.Range(0, 0x20).Select(i => (char)i),
        .. Enumerable.Range(0x7f, 0x21).Select(i => (char)i),
        '\u2028', '\u2029',
        .. Enumerable.Range(0x202a, 5).Select(i => (char)i),
        .. Enumerable.Range(0x2066, 4).Select(i => (char)i),
    ]);

    private const string Forged = "FORGED-LINE";

    private readonly TempDirectory _temp = new();
    private readonly FakeTimeProvider _time = new(Build.Now);

    public void Dispose()
    {
        SqliteConnection.ClearAllPools();
        _temp.Dispose();
    }

    /// <summary>A value carrying every hostile character, then a newline that would start a forged line.</summary>
    private static string Evil(string label) => label + Hostile + "\n" + Forged + " " + label;

    [Fact]
    public void PlanRunAudit_HostileStringsInFindingsAndDirectory_NoRawControlInAnyTextOutput()
    {
        var (config, rules, findings, directory) = World();

        Scan("plan (text)", Run("plan", "--rules", rules, "--findings", findings, "--directory", directory));
        var run = Run("run", "--once", "--config", config);
        run.Exit.Should().Be(0, run.Err);
        Scan("run --once", run);

        var list = Run("audit", "list", "--config", config, "--limit", "1000");
        list.Exit.Should().Be(0, list.Err);
        list.Out.Should().Contain("hostile-disable", "the audit list shows the rows the run wrote");
        Scan("audit list", list);

        using var export = JsonDocument.Parse(Run("audit", "export", "--config", config, "--format", "json").Out);
        var ids = export.RootElement.EnumerateArray().Select(r => r.GetProperty("sequence").GetInt64()).ToList();
        ids.Should().NotBeEmpty();
        foreach (var id in ids)
        {
            var show = Run("audit", "show", id.ToString(CultureInfo.InvariantCulture), "--config", config);
            show.Exit.Should().Be(0, show.Err);
            Scan($"audit show {id}", show);
        }
    }

    [Fact]
    public void Diagnostics_HostileValuesInFindingsRulesAndTests_NoRawControlOnStandardErrorOrOutput()
    {
        var (_, rules, _, directory) = World();
        var badFindings = _temp.Write("bad-findings.json", JsonSerializer.Serialize(new object[]
        {
            new { id = Evil("id"), source = Evil("src"), kind = "detection", type = Evil("type"), severity = Evil("severity"), observed_at = Evil("time"), subject = new { provider = Evil("prov"), name = Evil("name") } },
            new { id = 7, source = new { x = Evil("obj") }, kind = Evil("kind"), type = "t", severity = "high", observed_at = "2026-11-26T08:00:00Z", subject = Evil("subject") },
        }));
        Scan("plan with invalid findings", Run("plan", "--rules", rules, "--findings", badFindings, "--directory", directory), expectExit: 2);

        var badRules = Path.Combine(_temp.Path, "bad-rules");
        _temp.Write(Path.Combine("bad-rules", "bad.yaml"), $$"""
            id: {{Yaml(Evil("rule"))}}
            title: {{Yaml(Evil("title"))}}
            owner: {{Yaml(Evil("owner"))}}
            mode: {{Yaml(Evil("mode"))}}
            match:
              types: [{{Yaml(Evil("type"))}}]
              providers: [{{Yaml(Evil("provider"))}}]
            when: {{Yaml("identity." + Evil("field") + " ==")}}
            actions:
              - action: {{Yaml(Evil("action"))}}
                {{Yaml(Evil("param"))}}: {{Yaml(Evil("value"))}}
            tests:
              - name: {{Yaml(Evil("test"))}}
                finding: { type: {{Yaml(Evil("t"))}}, severity: high, subject: { provider: ad, name: {{Yaml(Evil("n"))}} } }
                expect: [{{Yaml(Evil("expected"))}}]
            """);
        Scan("validate", Run("validate", "--rules", badRules), expectExit: 2);
        Scan("test", Run("test", "--rules", badRules), expectExit: 2);

        var failingTest = Path.Combine(_temp.Path, "failing-test-rules");
        _temp.Write(Path.Combine("failing-test-rules", "failing.yaml"), $$"""
            id: failing
            title: A rule whose inline test fails, named with hostile text
            owner: team
            mode: enforce
            match: { types: [weak_password], providers: [ad] }
            actions:
              - action: disable_user
            tests:
              - name: {{Yaml(Evil("test-name"))}}
                finding: { type: weak_password, severity: high, subject: { provider: ad, name: {{Yaml(Evil("subject"))}} } }
                expect: []
            """);
        Scan("test (failing)", Run("test", "--rules", failingTest), expectExit: 1);
    }

    private (string Config, string Rules, string Findings, string Directory) World()
    {
        var rules = Path.Combine(_temp.Path, "rules");
        _temp.Write(Path.Combine("rules", "hostile-disable.yaml"), """
            id: hostile-disable
            title: Disable an account named with hostile text
            owner: test
            mode: enforce
            match: { types: [hostile_type], providers: [ad] }
            actions:
              - action: disable_user
            """);
        var name = "evil" + Hostile + "\n" + Forged + " user";
        var directory = _temp.Write("directory.json", JsonSerializer.Serialize(new
        {
            version = 1,
            generated_at = "2026-11-26T07:00:00Z",
            groups = Array.Empty<object>(),
            users = new object[]
            {
                new { provider = "ad", id = "u-evil", name, display_name = Evil("display"), upn = "evil@corp.example.com", groups = Array.Empty<string>() },
            },
        }));
        var findings = _temp.Write("findings.json", JsonSerializer.Serialize(new object[]
        {
            Finding("f-known", new { provider = "ad", name }),
            Finding("f-unknown", new { provider = "ad", name = Evil("nobody") }),
            Finding("f-by-id", new { provider = "ad", id = "u-evil" }),
        }));
        var config = _temp.Write("respond.yaml", $"""
            rules: {rules}
            findings: [{findings}]
            audit: {"{"} connection: {Path.Combine(_temp.Path, "respond.db")} {"}"}
            local: {"{"} snapshot: {directory}, working_copy: {Path.Combine(_temp.Path, "state", "directory.json")} {"}"}
            """);
        return (config, rules, findings, directory);
    }

    private static object Finding(string id, object subject) => new
    {
        id = id + Hostile,
        source = Evil("source"),
        kind = "detection",
        type = "hostile_type",
        severity = "high",
        observed_at = "2026-11-26T07:30:00Z",
        subject,
        title = Evil("title"),
        attributes = new Dictionary<string, string> { ["ip"] = Evil("ip"), [Evil("key")] = "v" },
    };

    /// <summary>A YAML double-quoted scalar carrying the string exactly (YAML's escapes for every control).</summary>
    private static string Yaml(string value)
    {
        var builder = new StringBuilder("\"");
        foreach (var c in value)
        {
            if (c == '"' || c == '\\') builder.Append('\\').Append(c);
            else if (c < ' ' || (c >= '\u007f' && c <= '\u009f') || c is '\u2028' or '\u2029' or (>= '\u202a' and <= '\u202e') or (>= '\u2066' and <= '\u2069'))
                builder.Append("\\u").Append(((int)c).ToString("x4", CultureInfo.InvariantCulture));
            else builder.Append(c);
        }

        return builder.Append('"').ToString();
    }

    private (int Exit, string Out, string Err) Run(params string[] args)
    {
        var output = new StringWriter();
        var error = new StringWriter();
        var exit = CliApp.Run(args, output, error, _time);
        return (exit, output.ToString(), error.ToString());
    }

    private static void Scan(string what, (int Exit, string Out, string Err) result, int? expectExit = null)
    {
        if (expectExit is { } exit) result.Exit.Should().Be(exit, $"{what}: {result.Out}{result.Err}");
        foreach (var (stream, text) in new[] { ("standard output", result.Out), ("standard error", result.Err) })
        {
            var raw = text.Select((c, i) => (c, i)).Where(p => p.c != '\n' && Hostile.Contains(p.c, StringComparison.Ordinal)).ToList();
            raw.Should().BeEmpty($"{what} writes no raw control character from data to {stream}; first at {Context(text, raw.FirstOrDefault().i)}");
            text.Split('\n').Where(l => l.TrimStart().StartsWith(Forged, StringComparison.Ordinal)).Should()
                .BeEmpty($"a newline in data must not start a line of its own in {what}'s {stream}");
        }
    }

    private static string Context(string text, int index)
    {
        var start = Math.Max(0, index - 60);
        return JsonSerializer.Serialize(text.Substring(start, Math.Min(120, text.Length - start)));
    }
}
