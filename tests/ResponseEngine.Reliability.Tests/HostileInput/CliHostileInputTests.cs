using System.Text;
using Microsoft.Data.Sqlite;
using Microsoft.Extensions.Time.Testing;
using ResponseEngine.Audit.Sqlite;
using ResponseEngine.Inbox;
using ResponseEngine.Policy.Configuration;
using ResponseEngine.Reliability.Tests.Security;
using ResponseEngine.TestKit;

namespace ResponseEngine.Reliability.Tests.HostileInput;

/// <summary>
/// Every file a user can feed `respond` — the configuration, rules (also at a `plan --base` git ref), the directory
/// snapshot, findings, and quarantined records or corrected files for `inbox resubmit` — with lone surrogate escapes,
/// invalid UTF-8, NUL, wrong types in every field and 10k-record files, run as the built CLI in child processes: each
/// ends with exit 0, 1 or 2 and a diagnostic, never 134 or "Unhandled exception". The per-field sweeps of the same
/// hostile values run in process (they are many); every path is also crossed by real processes.
/// </summary>
[Trait("Reads", RepoPaths.ReadsShippedRules)]
public sealed class CliHostileInputTests : IDisposable
{
    private static readonly Dictionary<string, string> NoEnvironment = [];

    /// <summary>Hostile YAML values, as raw bytes: escapes of lone surrogates and NUL, invalid UTF-8, NUL itself, and every YAML type.</summary>
    private static readonly byte[][] YamlValues =
    [
        "\"\\ud800\""u8.ToArray(), "\"a\\udc00\""u8.ToArray(), [(byte)'a', 0xFF, (byte)'b'], [0xED, 0xA0, 0x80], "\"\\0\""u8.ToArray(), [(byte)'a', 0x00, (byte)'b'],
        "[1, x]"u8.ToArray(), "{a: 1}"u8.ToArray(), "123456789012345678901234567890"u8.ToArray(), "-1"u8.ToArray(), "~"u8.ToArray(), "\"\""u8.ToArray(), "*nowhere"u8.ToArray(),
    ];

    private readonly TempDirectory _dir = new();
    private readonly List<Respond.Result> _runs = [];

    public void Dispose()
    {
        SqliteConnection.ClearAllPools();
        _dir.Dispose();
    }

    private static string Show(byte[] value) => Printable(Encoding.Latin1.GetString(value));

    private static string Printable(string text) => string.Concat(text.Select(c => c < ' ' || c > '~' ? $"\\x{(int)c:x2}" : c.ToString()));

    /// <summary>Runs the built `respond` in a child process and checks it ended as a program does: 0, 1 or 2, no stack trace.</summary>
    private async Task<Respond.Result> RespondAsync(params string[] args)
    {
        var result = await Respond.RunAsync(_dir.Path, NoEnvironment, args);
        _runs.Add(result);
        result.ExitCode.Should().BeOneOf([0, 1, 2], Printable(result.ToString()));
        (result.Output + result.Error).Should().NotContain("Unhandled exception").And.NotContain("   at System.").And.NotContain("   at ResponseEngine.", Printable(result.ToString()));
        return result;
    }

    private void RecordRuns(string path) =>
        Reliability.Record("hostile-input", $"{path}: child processes={_runs.Count} exit-134=0 unhandled=0 exits={string.Join(",", _runs.GroupBy(r => r.ExitCode).OrderBy(g => g.Key).Select(g => $"{g.Key}x{g.Count()}"))}");

    private string WriteBytes(string name, byte[] bytes)
    {
        var path = Path.Combine(_dir.Path, name);
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        File.WriteAllBytes(path, bytes);
        return path;
    }

    private string GoodFindings() => WriteBytes("good.ndjson", Encoding.UTF8.GetBytes(IngestHostileInputTests.Template("g-1") + "\n"));

    [Fact]
    public async Task PlanAndRun_HostileDirectorySnapshots_Exit2NamingTheFieldNeverACrash()
    {
        var sample = File.ReadAllText(RepoPaths.SampleDirectory);
        var firstUser = sample.IndexOf("\"users\"", StringComparison.Ordinal);
        var nameAt = sample.IndexOf("\"name\": \"", firstUser, StringComparison.Ordinal) + "\"name\": \"".Length;
        var line = sample[..nameAt].Count(c => c == '\n') + 1;
        byte[] With(byte[] inside) => [.. Encoding.UTF8.GetBytes(sample[..nameAt]), .. inside, .. Encoding.UTF8.GetBytes(sample[nameAt..])];
        var cases = new (string Name, byte[] Bytes, bool NotText)[]
        {
            ("lone-high", With("\\ud800"u8.ToArray()), true),
            ("lone-low", With("x\\udfff"u8.ToArray()), true),
            ("not-utf8", With([0xFF, 0xFE]), true),
            ("cesu", With([0xED, 0xA0, 0x80]), true),
            ("nul-escape", With("\\u0000"u8.ToArray()), false),
            ("nul-byte", With([0x00]), false),
            ("wrong-types", Encoding.UTF8.GetBytes("""
                {"version": "1", "generated_at": 7, "groups": [{"provider": 1, "name": ["x"], "dynamic": "yes", "member_of": "Domain Admins", "roles": {}},
                  {"provider": "ad", "name": "G", "synced": null, "okta_type": 3, "role_assignable": "true"}],
                 "users": [{"provider": "ad", "id": 5, "name": {}, "enabled": "true", "guest": 0, "groups": [1], "roles": "x", "tags": [null],
                  "password_must_change": [], "random_password_set_at": 1, "sessions_revoked_at": true, "last_sign_in_at": "yesterday",
                  "risk_state": 9, "okta_status": [], "mfa_policies": {}, "primary_group": false, "eligible_roles": [[]], "upn": 1, "email": {}, "display_name": []},
                  "not an object", 42, null]}
                """), false),
            ("not-json", "{\"users\": [\u0001"u8.ToArray(), false),
            ("ten-thousand", Encoding.UTF8.GetBytes("{\"version\": 1, \"groups\": [], \"users\": [\n" + string.Join(",\n", Enumerable.Range(0, 10_000).Select(i =>
                i == 7_777 ? "{\"provider\": \"okta\", \"id\": \"00u7777\", \"name\": \"\\ud800\"}" : $"{{\"provider\": \"okta\", \"id\": \"00u{i}\", \"name\": \"u{i}@corp.example.com\"}}")) + "\n]}"), true),
        };
        var findings = GoodFindings();

        foreach (var (name, bytes, notText) in cases)
        {
            var directory = WriteBytes($"dir-{name}.json", bytes);
            var plan = await RespondAsync("plan", "--findings", findings, "--rules", RepoPaths.Rules, "--directory", directory);
            if (name.StartsWith("nul", StringComparison.Ordinal)) continue;
            plan.ExitCode.Should().Be(2, plan.ToString());
            plan.Error.Should().Contain($"{directory}:").And.Contain("error RE020");
            if (notText)
            {
                plan.Error.Should().Contain("not valid Unicode text");
                plan.Error.Should().Contain(name == "ten-thousand" ? $"{directory}:7779:" : $"{directory}:{line}:", "the diagnostic names the line of the field");
            }
        }

        var config = Path.Combine(_dir.Path, "run.yaml");
        File.WriteAllText(config, $"rules: {RepoPaths.Rules}\naudit: {{ connection: {Path.Combine(_dir.Path, "run.db")} }}\nlocal: {{ snapshot: {Path.Combine(_dir.Path, "dir-lone-high.json")}, working_copy: {Path.Combine(_dir.Path, "state", "directory.json")} }}\n");
        // The local directory is read before anything is decided: it cannot be read, so nothing is decided (exit 2), and the
        // error names the position.
        var run = await RespondAsync("run", "--once", "--config", config, "--findings", findings);
        run.ExitCode.Should().Be(2, run.ToString());
        run.Output.Should().NotContain("succeeded", run.ToString());
        run.Error.Should().Contain("respond: nothing done: the local directory").And.Contain("error RE020");
        RecordRuns("directory snapshot (plan --directory, run --once local.snapshot)");
    }

    [Fact]
    public async Task PlanAndRun_HostileFindingFiles_Exit2OrSkippedNeverACrash()
    {
        // One record per field and hostile value, after a good one: every field's every hostile value in one file.
        var lines = new List<byte[]> { Encoding.UTF8.GetBytes(IngestHostileInputTests.Template("g-0")) };
        foreach (var field in IngestHostileInputTests.Fields)
        {
            for (var v = 0; v < IngestHostileInputTests.HostileValues.Length; v++)
            {
                lines.Add(IngestHostileInputTests.Replace($"h-{field}-{v}", field, IngestHostileInputTests.HostileValues[v]).Line);
            }
        }

        lines.Add("{\"id\":\"nul\u0000\"}"u8.ToArray());
        var everyField = WriteBytes("every-field.ndjson", [.. lines.SelectMany(l => l.Append((byte)'\n'))]);
        var big = WriteBytes("big.ndjson", IngestHostileInputTests.TenThousand(ndjson: true, out var bad));
        var bigJson = WriteBytes("big.json", IngestHostileInputTests.TenThousand(ndjson: false, out _));
        var config = Path.Combine(_dir.Path, "respond.yaml");
        File.WriteAllText(config, $"rules: {RepoPaths.Rules}\naudit: {{ connection: {Path.Combine(_dir.Path, "respond.db")} }}\nlocal: {{ snapshot: {RepoPaths.SampleDirectory}, working_copy: {Path.Combine(_dir.Path, "state", "directory.json")} }}\n");

        foreach (var file in new[] { everyField, big, bigJson })
        {
            var plan = await RespondAsync("plan", "--findings", file, "--rules", RepoPaths.Rules, "--directory", RepoPaths.SampleDirectory);
            plan.ExitCode.Should().Be(2, plan.ToString());
            plan.Error.Should().Contain($"{file}:").And.Contain("RE0104");
            (await RespondAsync("plan", "--findings", file, "--rules", RepoPaths.Rules, "--directory", RepoPaths.SampleDirectory, "--skip-invalid")).ExitCode.Should().Be(0);
            (await RespondAsync("run", "--once", "--config", config, "--findings", file)).ExitCode.Should().Be(2);
        }

        var skipping = await RespondAsync("run", "--once", "--config", config, "--findings", big, "--skip-invalid");
        skipping.ExitCode.Should().Be(0, skipping.ToString());
        skipping.Output.Should().Contain($"{10_000 - bad} findings");
        RecordRuns($"findings (plan, run --once; one file with {lines.Count} records, every field x {IngestHostileInputTests.HostileValues.Length} hostile values; 10k-record NDJSON and JSON with {bad} hostile)");
    }

    /// <summary>A configuration with most keys, each value a «default» the sweep replaces; rules and paths are absolute.</summary>
    private string ConfigTemplate() => $$"""
        rules: «{{RepoPaths.Rules}}»
        findings: [«{{RepoPaths.Root}}/samples/findings»]
        privileged:
          ad: { groups: [«Domain Admins», «Tier0 Operators»] }
          entra: { roles: [«Global Administrator»] }
        guards:
          protected: { accounts: [«svc-backup@corp.example.com»], groups: [«Tier0 Break Glass»], tags: [«break_glass»], engine_accounts: [«svc-respond»] }
          lockout: { minimum: «2», critical: { ad: [«Domain Admins»] }, count_break_glass: «false» }
          rate_limits: { global_per_hour: «200», per_provider_per_hour: { okta: «50» }, per_action_per_hour: { disable_user: «20» } }
          breaker: { threshold: «50», window: «1h» }
          approval: { expires: «24h» }
          dedupe: { window: «24h» }
        audit: { store: «sqlite», connection: «{{_dir.Path}}/respond.db» }
        local: { snapshot: «{{RepoPaths.SampleDirectory}}», working_copy: «{{_dir.Path}}/state/directory.json» }
        execution: { concurrency_per_provider: «1», action_timeout: «60s», reconcile_after: «5m», connect_timeout: «10s» }
        connectors:
          okta: { kind: «okta», base_url: «https://example.okta.com», auth: «api_token» }
        serve:
          listen: «http://127.0.0.1:0»
          auth: { token_env: «RESPOND_WEBHOOK_TOKEN», replay_window: «5m» }
          max_body: «1048576»
          inbox: { batch_size: «50», lease: «5m», poll_interval: «1s» }
          rules: { watch: «true», git_pull_every: «5m» }
          pollers:
            drop: { kind: «folder», path: «{{_dir.Path}}/drop», every: «30s», provider: «ad», source: «itdr» }
        """;

    /// <summary>The template with the placeholder at <paramref name="index"/> (every one when null) replaced by raw bytes, the others by their defaults.</summary>
    private static byte[] Config(string template, int? index, byte[] value)
    {
        var parts = template.Split('«');
        using var bytes = new MemoryStream();
        bytes.Write(Encoding.UTF8.GetBytes(parts[0]));
        for (var i = 1; i < parts.Length; i++)
        {
            var end = parts[i].IndexOf('»', StringComparison.Ordinal);
            if (index is null || index == i - 1) bytes.Write(value);
            else bytes.Write(Encoding.UTF8.GetBytes(parts[i][..end]));
            bytes.Write(Encoding.UTF8.GetBytes(parts[i][(end + 1)..]));
        }

        return bytes.ToArray();
    }

    [Fact]
    public async Task ConfigLoaderAndPlan_HostileValueInEveryConfigurationKey_Exit2WithAPositionNeverACrash()
    {
        var template = ConfigTemplate();
        var placeholders = template.Count(c => c == '«');
        var file = Path.Combine(_dir.Path, "respond.yaml");
        File.WriteAllBytes(file, Config(template, -1, []));
        ConfigLoader.Load(file, NoEnvironment).Diagnostics.Should().BeEmpty("the template itself is valid");

        // In process: every key alone with every hostile value (a child process each would take minutes).
        var rejected = 0;
        for (var k = 0; k < placeholders; k++)
        {
            foreach (var value in YamlValues)
            {
                File.WriteAllBytes(file, Config(template, k, value));
                var load = ConfigLoader.Load(file, NoEnvironment);
                var errors = load.Diagnostics.Where(d => d.IsError).ToList();
                if (errors.Count == 0) continue;
                rejected++;
                load.Options.Should().BeNull();
                errors.Should().OnlyContain(d => d.Location.File == file && d.Location.Line >= 1, $"placeholder {k} = {Show(value)}: the diagnostic names the file and position");
            }
        }

        // Child processes: every key at once with each hostile value, through validate and plan.
        for (var v = 0; v < YamlValues.Length; v++)
        {
            var all = WriteBytes($"all-{v}.yaml", Config(template, null, YamlValues[v]));
            var plan = await RespondAsync("plan", "--config", all, "--findings", GoodFindings(), "--directory", RepoPaths.SampleDirectory);
            plan.ExitCode.Should().Be(2, Show(YamlValues[v]));
            plan.Error.Should().Contain($"{all}:");
        }

        Reliability.Record("hostile-input", $"configuration: {placeholders} keys x {YamlValues.Length} hostile values in process, rejected-with-position={rejected}, crashes=0");
        RecordRuns("configuration (plan --config)");
    }

    private static string RuleTemplate(string id) => $$"""
        id: «{{id}}»
        title: «a hostile rule»
        owner: «tests»
        mode: «enforce»
        match:
          types: [«password_spray»]
          providers: [«entra»]
          min_severity: «medium»
        when: «identity.enabled»
        actions:
          - action: «revoke_sessions»
        limits: { max_per_hour: «5» }
        """;

    [Fact]
    public async Task ValidateAndPlanBase_HostileRuleFilesAtHeadAndAtTheBaseRef_Exit2NeverACrash()
    {
        using var repo = new GitRepo();
        var rules = repo.Rules;
        var good = RuleTemplate("good-rule").Replace("«", "", StringComparison.Ordinal).Replace("»", "", StringComparison.Ordinal);
        repo.Write("rules/good.yaml", good);
        for (var v = 0; v < YamlValues.Length; v++)
        {
            File.WriteAllBytes(Path.Combine(rules, $"hostile-{v}.yaml"), Config(RuleTemplate($"hostile-{v}"), null, YamlValues[v]));
        }

        File.WriteAllBytes(Path.Combine(rules, "wrong-shape.yaml"), "id: shape\ntitle: [1]\nowner: {a: 1}\nmatch: 5\nactions: {action: disable_user}\nlimits: [x]\n"u8.ToArray());
        File.WriteAllBytes(Path.Combine(rules, "not-utf8.yaml"), [.. "id: bad\ntitle: "u8, 0xC3, 0x28, .. "\n"u8]);
        repo.Commit("hostile rules");

        var validate = await RespondAsync("validate", "--rules", rules);
        validate.ExitCode.Should().Be(2);
        (validate.Output + validate.Error).Should().Contain("not-utf8.yaml:").And.Contain("hostile-0.yaml:");
        var findings = GoodFindings();
        (await RespondAsync("plan", "--rules", rules, "--findings", findings, "--directory", RepoPaths.SampleDirectory)).ExitCode.Should().Be(2);

        foreach (var file in Directory.EnumerateFiles(rules).Where(f => !f.EndsWith("good.yaml", StringComparison.Ordinal))) File.Delete(file);
        repo.Commit("only the good rule");

        var diff = await RespondAsync("plan", "--rules", rules, "--findings", findings, "--directory", RepoPaths.SampleDirectory, "--base", "HEAD~1");
        diff.ExitCode.Should().Be(2, "the rules at the base ref have errors: " + diff);
        (diff.Output + diff.Error).Should().Contain("not-utf8.yaml").And.Contain("HEAD~1");
        foreach (var format in new[] { "json", "markdown" })
        {
            (await RespondAsync("plan", "--rules", rules, "--findings", findings, "--directory", RepoPaths.SampleDirectory, "--base", "HEAD~1", "--format", format)).ExitCode.Should().Be(2);
        }

        RecordRuns($"rules (validate, plan, plan --base with {YamlValues.Length + 2} hostile rule files at the base ref)");
    }

    [Fact]
    public async Task InboxResubmit_HostileQuarantinedRecordsAndCorrectedFiles_Exit2NamingTheProblemNeverACrash()
    {
        var db = Path.Combine(_dir.Path, "respond.db");
        var config = Path.Combine(_dir.Path, "respond.yaml");
        File.WriteAllText(config, $"audit: {{ connection: {db} }}\n");
        string[] payloads =
        [
            IngestHostileInputTests.Template("q-1").Replace("aaron.ford", "\\ud800", StringComparison.Ordinal),
            IngestHostileInputTests.Template("q-2").Replace("\"high\"", "[1]", StringComparison.Ordinal),
            "{\"id\": \"q-3\", \"title\": \"\\u0000\"",
            "\0\0\0",
        ];
        var vendor = new (string Origin, string Payload)[]
        {
            ("okta_logs:okta", "{\"uuid\":\"e-1\",\"eventType\":42,\"published\":\"2026-11-20T08:00:00Z\"}"),
            ("okta_logs:okta", "{\"uuid\":\"e-2\",\"eventType\":\"security.threat.detected\",\"published\":\"2026-11-20T08:00:00Z\",\"target\":[{\"id\":\"00u1\",\"type\":\"User\",\"alternateId\":\"\\udc00\"}]}"),
            ("graph_alerts:alerts", "{\"id\":[\"a\"],\"createdDateTime\":7,\"evidence\":{}}"),
            ("graph_risky_users:risky", "{\"id\":\"u-1\",\"riskLevel\":\"high\",\"riskState\":\"atRisk\",\"riskLastUpdatedDateTime\":{},\"userPrincipalName\":\"\\ud800\"}"),
            ("graph_risky_users:risky", "]["),
        };
        await using (var store = new SqliteAuditStore(db, new FakeTimeProvider(Build.Now)))
        {
            await store.InitializeAsync(TestContext.Current.CancellationToken);
            await store.RejectAsync([.. payloads.Select((p, i) => new RejectedRecord("folder:drop", $"f-{i}", p, "hostile")), .. vendor.Select((r, i) => new RejectedRecord(r.Origin, $"v-{i}", r.Payload, "hostile"))],
                TestContext.Current.CancellationToken);
        }

        (await RespondAsync("inbox", "list", "--rejected", "--config", config)).ExitCode.Should().Be(0);
        for (var id = 1; id <= payloads.Length + vendor.Length; id++)
        {
            var resubmit = await RespondAsync("inbox", "resubmit", id.ToString(System.Globalization.CultureInfo.InvariantCulture), "--config", config);
            resubmit.ExitCode.Should().Be(2, resubmit.ToString());
            resubmit.Error.Should().NotBeEmpty();
        }

        foreach (var (name, bytes) in new (string, byte[])[]
        {
            ("surrogate.json", Encoding.UTF8.GetBytes(IngestHostileInputTests.Template("c-1").Replace("aaron.ford", "\\udfff", StringComparison.Ordinal))),
            ("not-utf8.json", IngestHostileInputTests.Replace("c-2", "title", [(byte)'"', 0xFF, (byte)'"']).Line),
            ("wrong-type.json", IngestHostileInputTests.Replace("c-3", "subject", "[]"u8.ToArray()).Line),
            ("ten-thousand.ndjson", IngestHostileInputTests.TenThousand(ndjson: true, out _)),
        })
        {
            var corrected = await RespondAsync("inbox", "resubmit", "1", "--file", WriteBytes(name, bytes), "--config", config);
            corrected.ExitCode.Should().Be(2, corrected.ToString());
            corrected.Error.Should().Contain(name);
        }

        RecordRuns("inbox resubmit (quarantined canonical and vendor records, corrected files)");
    }
}
