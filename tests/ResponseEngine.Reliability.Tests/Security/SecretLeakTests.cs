using ResponseEngine.TestKit;
using System.Text;
using Microsoft.Data.Sqlite;
using ResponseEngine.Reliability.Tests.Crash;

namespace ResponseEngine.Reliability.Tests.Security;

/// <summary>
/// Distinctive secrets — an Okta API token (right and wrong), an AD bind password, a SQL Server connection-string
/// password, the audit anchor key — are configured the documented ways (environment variables named in respond.yaml, RESPOND__ overrides),
/// the CLI does real work with them (Okta over HTTP against the emulated org; AD and SQL Server unreachable, so their
/// errors are printed), and every output is scanned for them: stdout and stderr of every command, the plan in every
/// format, the audit database file, its exports, and every other file the commands left in the folder.
/// </summary>
public sealed class SecretLeakTests
{
    private const string OktaToken = "S3cr3t-okta-token-7f3a9c0e";
    private const string WrongOktaToken = "S3cr3t-wrong-okta-token-e41d";
    private const string AdPassword = "S3cr3t-ad-bind-pw-51c2e8";
    private const string SqlPassword = "S3cr3t-sql-pw-9d0b71";
    private const string AuditKey = "S3cr3t-audit-anchor-key-0c5e7a91b2d4f6a8c0e2";

    private static readonly string[] Secrets = [OktaToken, WrongOktaToken, AdPassword, SqlPassword, AuditKey];

    [Fact]
    public async Task EveryOutput_OfCommandsUsingSecrets_NeverContainsThem()
    {
        await using var server = new OktaOrgServer();
        var scenario = CrashScenario.For(5, 30);
        var org = scenario.Org(server.BaseUrl);
        org.ApiToken = OktaToken;
        using var folder = new TempDirectory();
        server.Serve(org, Path.Combine(folder.Path, "respond.db"));
        Respond.CopyDefaults(folder.Path);
        Directory.Delete(Path.Combine(folder.Path, "rules"), recursive: true);
        scenario.WriteInputs(folder);
        folder.Write("findings.ndjson", scenario.FindingsText()
            + """{"id":"ad1","source":"t","type":"weak_password","severity":"high","observed_at":"2026-11-20T08:00:00Z","subject":{"provider":"ad","name":"alice"}}""" + "\n");
        folder.Write("rules/ad/ad-weak.yaml", TestKit.RuleFiles.Rule(id: "ad-weak", types: "[weak_password]", providers: "[ad]", actions: "  - action: reset_password"));
        folder.Write("respond.yaml", $"""
            rules: rules
            findings: [findings.ndjson]
            connectors:
              okta:
                kind: okta
                base_url: {server.BaseUrl.AbsoluteUri.TrimEnd('/')}
                auth: api_token
                token_env: RESPOND_OKTA_API_TOKEN
                max_retries: 1
              ad:
                kind: ldap
                server: 127.0.0.254
                port: 636
                base_dn: DC=test,DC=local
                bind_dn: svc-respond@test.local
                password_env: RESPOND_AD_PASSWORD
                timeout_seconds: 2
                retry_attempts: 1
            """);
        var environment = new Dictionary<string, string>
        {
            ["RESPOND_OKTA_API_TOKEN"] = OktaToken, ["RESPOND_AD_PASSWORD"] = AdPassword, [Audit.AuditAnchorKey.Variable] = AuditKey,
        };
        var results = new List<Respond.Result>
        {
            await Respond.RunAsync(folder.Path, environment, "validate"),
            await Respond.RunAsync(folder.Path, environment, "run", "--once"),
            await Respond.RunAsync(folder.Path, environment, "audit", "list"),
            await Respond.RunAsync(folder.Path, environment, "audit", "show", "1"),
            await Respond.RunAsync(folder.Path, environment, "audit", "export", "--format", "json", "--out", "export.json"),
            await Respond.RunAsync(folder.Path, environment, "audit", "export", "--format", "csv", "--out", "export.csv"),
            await Respond.RunAsync(folder.Path, environment, "audit", "verify"),
            await Respond.RunAsync(folder.Path, environment, "breaker", "status"),
            await Respond.RunAsync(folder.Path, environment, "permissions"),
        };
        foreach (var format in new[] { "text", "json", "markdown", "html" })
        {
            results.Add(await Respond.RunAsync(folder.Path, environment, "plan", "--findings", "findings.ndjson", "--format", format, "--out", $"plan.{format}"));
        }

        // The token really was used: the org changed through it.
        server.Effects.Should().NotBeEmpty(string.Join("\n", results));
        // The audit key really was used: verify checked the anchor it signed.
        results.Single(r => r.Command == "audit verify").Output.Should().Contain("anchor holds");

        // A wrong token (401), and a SQL Server audit store whose connection string carries a password (unreachable).
        var wrong = new Dictionary<string, string>(environment) { ["RESPOND_OKTA_API_TOKEN"] = WrongOktaToken };
        results.Add(await Respond.RunAsync(folder.Path, wrong, "run", "--once"));
        var sql = new Dictionary<string, string>(environment)
        {
            ["RESPOND__AUDIT__STORE"] = "sqlserver",
            ["RESPOND__AUDIT__CONNECTION"] = $"Server=127.0.0.1,1;Database=respond;User Id=respond;Password={SqlPassword};Connect Timeout=2;Encrypt=True",
        };
        results.Add(await Respond.RunAsync(folder.Path, sql, "audit", "list"));
        results.Add(await Respond.RunAsync(folder.Path, sql, "run", "--once"));
        results[^1].ExitCode.Should().NotBe(0, "the SQL Server store is unreachable: " + results[^1]);

        SqliteConnection.ClearAllPools();
        var leaks = new List<string>();
        foreach (var result in results)
        {
            foreach (var secret in Secrets.Where(s => result.Output.Contains(s, StringComparison.Ordinal) || result.Error.Contains(s, StringComparison.Ordinal)))
            {
                leaks.Add($"respond {result.Command} printed {secret}");
            }
        }

        var files = Directory.EnumerateFiles(folder.Path, "*", SearchOption.AllDirectories).ToList();
        foreach (var file in files)
        {
            var bytes = File.ReadAllBytes(file);
            foreach (var secret in Secrets.Where(s => Contains(bytes, Encoding.UTF8.GetBytes(s)) || Contains(bytes, Encoding.Unicode.GetBytes(s))))
            {
                leaks.Add($"{Path.GetRelativePath(folder.Path, file)} holds {secret}");
            }
        }

        leaks.Should().BeEmpty();
        files.Select(Path.GetFileName).Should().Contain(["respond.db", "export.json", "export.csv", "plan.text", "plan.json", "plan.markdown", "plan.html"]);
        Reliability.Record("security", $"secrets={Secrets.Length} commands={results.Count} files-scanned={files.Count} bytes-scanned={files.Sum(f => new FileInfo(f).Length)} leaks=0");
    }

    private static bool Contains(byte[] haystack, byte[] needle) => haystack.AsSpan().IndexOf(needle) >= 0;
}
