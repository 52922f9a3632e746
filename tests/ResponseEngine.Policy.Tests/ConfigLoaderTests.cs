using System.Collections;
using ResponseEngine.Diagnostics;
using ResponseEngine.Findings;
using ResponseEngine.Policy.Configuration;
using ResponseEngine.TestKit;

namespace ResponseEngine.Policy.Tests;

public class ConfigLoaderTests
{
    private static readonly IDictionary NoEnvironment = new Hashtable();

    [Fact]
    public void Load_NoFile_GivesTheEmbeddedDefaults()
    {
        var load = ConfigLoader.Load(null, NoEnvironment);

        load.Options!.Audit.Connection.Should().Be("respond.db");
        load.Options.Guards.Lockout.Minimum.Should().Be(2);
        load.Options.Local.Snapshot.Should().Be("samples/directory.json");
    }

    [Fact]
    public void Load_File_ReadsEverySection()
    {
        using var temp = new TempDirectory();
        var file = temp.Write("respond.yaml", """
            rules: policy/rules
            findings: [in/a.json, in/b.ndjson]
            privileged:
              ad: { groups: [Domain Admins, Tier0] }
            guards:
              protected: { accounts: [svc-backup], groups: [Tier0 Break Glass], engine_accounts: [svc-respond] }
              lockout: { minimum: 3, critical: { entra: [Global Administrator] } }
              rate_limits: { global_per_hour: 50, per_provider_per_hour: { okta: 10 }, per_action_per_hour: { disable_user: 5 } }
              breaker: { threshold: 20, window: 30m }
              dedupe: { window: 12h }
            audit: { store: sqlite, connection: /var/lib/respond/audit.db }
            local: { snapshot: snap.json, working_copy: state/dir.json }
            execution: { concurrency_per_provider: 2, action_timeout: 30s, reconcile_after: 5m, stop_grace: 45s }
            """);

        var load = ConfigLoader.Load(file, NoEnvironment);

        load.Diagnostics.Should().BeEmpty();
        var o = load.Options!;
        o.Rules.Should().Be("policy/rules");
        o.Findings.Should().Equal("in/a.json", "in/b.ndjson");
        o.Privileged.IsPrivilegedGroup(Provider.Ad, "tier0").Should().BeTrue();
        o.Privileged.IsPrivilegedGroup(Provider.Ad, "Schema Admins").Should().BeFalse("the list replaces the defaults");
        o.Guards.Protected.EngineAccounts.Should().Equal("svc-respond");
        o.Guards.Lockout.Minimum.Should().Be(3);
        o.Guards.Lockout.Critical[Provider.Entra].Should().Equal("Global Administrator");
        o.Guards.Lockout.Critical[Provider.Ad].Should().Contain("Domain Admins", "providers not listed keep their defaults");
        o.Guards.RateLimits.PerProviderPerHour[Provider.Okta].Should().Be(10);
        o.Guards.RateLimits.PerActionPerHour["disable_user"].Should().Be(5);
        o.Guards.Breaker.Window.Should().Be(TimeSpan.FromMinutes(30));
        o.Guards.Dedupe.Window.Should().Be(TimeSpan.FromHours(12));
        o.Audit.Connection.Should().Be("/var/lib/respond/audit.db");
        o.ActionTimeout.Should().Be(TimeSpan.FromSeconds(30));
        o.StopGrace.Should().Be(TimeSpan.FromSeconds(45));
    }

    [Fact]
    public void Load_CountBreakGlass_DefaultsOffAndReadsABooleanOrSaysWhere()
    {
        using var temp = new TempDirectory();
        ConfigLoader.Load(temp.Write("default.yaml", "guards:\n  lockout: { minimum: 3 }\n"), new Hashtable()).Options!.Guards.Lockout.CountBreakGlass.Should().BeFalse();
        ConfigLoader.Load(temp.Write("on.yaml", "guards:\n  lockout: { count_break_glass: true }\n"), new Hashtable()).Options!.Guards.Lockout.CountBreakGlass.Should().BeTrue();

        var bad = ConfigLoader.Load(temp.Write("bad.yaml", "guards:\n  lockout:\n    count_break_glass: sometimes\n"), new Hashtable());

        bad.Options.Should().BeNull();
        bad.Diagnostics.Should().ContainSingle().Which.ToString().Should().Contain("bad.yaml:3:").And.Contain("field 'count_break_glass' must be true or false");
    }

    [Fact]
    public void Load_Environment_OverridesTheFile()
    {
        using var temp = new TempDirectory();
        var file = temp.Write("respond.yaml", "guards:\n  lockout: { minimum: 3 }\n");
        var environment = new Hashtable
        {
            ["RESPOND__GUARDS__LOCKOUT__MINIMUM"] = "4",
            ["RESPOND__AUDIT__CONNECTION"] = "Server=db;Database=respond;",
            ["RESPOND__GUARDS__PROTECTED__ACCOUNTS"] = "a, b",
            ["UNRELATED"] = "x",
        };

        var options = ConfigLoader.Load(file, environment).Options!;

        options.Guards.Lockout.Minimum.Should().Be(4);
        options.Audit.Connection.Should().Be("Server=db;Database=respond;");
        options.Guards.Protected.Accounts.Should().Equal("a", "b");
    }

    [Fact]
    public void Load_BadConfig_GetsPositionedDiagnostics()
    {
        using var temp = new TempDirectory();
        var file = temp.Write("respond.yaml", "audit:\n  stor: sqlite\nguards:\n  breaker: { threshold: many, window: soon }\n");

        var load = ConfigLoader.Load(file, NoEnvironment);

        load.Options.Should().BeNull();
        load.Diagnostics.Select(d => (d.Code, d.Location.Line, d.Location.Column)).Should().BeEquivalentTo(new[]
        {
            (DiagnosticCodes.UnknownKey, 2, 3),
            (DiagnosticCodes.WrongType, 4, 25),
            (DiagnosticCodes.InvalidDuration, 4, 39),
        });
        load.Diagnostics[0].Hint.Should().Be("did you mean 'store'?");
    }

    [Fact]
    public void Load_BadDedupeWindow_IsRefusedWhereItIsWritten()
    {
        using var temp = new TempDirectory();
        var file = temp.Write("respond.yaml", "guards:\n  dedupe:\n    windw: 1h\n    window: a day\n");

        var load = ConfigLoader.Load(file, NoEnvironment);

        load.Options.Should().BeNull();
        load.Diagnostics.Select(d => (d.Code, d.Location.Line, d.Location.Column)).Should().BeEquivalentTo(new[]
        {
            (DiagnosticCodes.UnknownKey, 3, 5),
            (DiagnosticCodes.InvalidDuration, 4, 13),
        });
        load.Diagnostics.Should().Contain(d => d.Hint == "did you mean 'window'?");
        ConfigLoader.Load(null, NoEnvironment).Options!.Guards.Dedupe.Window.Should().Be(TimeSpan.FromHours(24), "the default");
    }

    [Theory]
    [InlineData("execution:\n  action_timeout: 60s\n  reconcile_after: 2m\n", 3, "'execution.reconcile_after' (2m) must be longer than twice 'execution.action_timeout' (1m)")]
    [InlineData("execution:\n  action_timeout: 3m\n", 2, "'execution.reconcile_after' (5m) must be longer than twice 'execution.action_timeout' (3m)")]
    public void Load_ReconcileAfterWithinTwoActionTimeouts_IsRefusedWhereItIsWritten(string yaml, int line, string message)
    {
        // The reconciler would otherwise close an intent whose action (and its read-back) may still be running.
        using var temp = new TempDirectory();
        var file = temp.Write("respond.yaml", yaml);

        var load = ConfigLoader.Load(file, NoEnvironment);

        load.Options.Should().BeNull();
        var error = load.Diagnostics.Should().ContainSingle().Which;
        (error.Code, error.Location.Line).Should().Be((DiagnosticCodes.InvalidValue, line));
        error.Message.Should().StartWith(message);
        error.Hint.Should().StartWith("raise reconcile_after above");
    }

    [Fact]
    public void Load_Defaults_ReconcileOnlyAfterTwoActionTimeouts()
    {
        var options = ConfigLoader.Load(null, NoEnvironment).Options!;

        options.ReconcileAfter.Should().BeGreaterThan(2 * options.ActionTimeout);
    }

    [Fact]
    public void Load_BadEnvironmentValue_NamesTheVariable()
    {
        var load = ConfigLoader.Load(null, new Hashtable { ["RESPOND__GUARDS__LOCKOUT__MINIMUM"] = "two" });

        load.Diagnostics.Should().ContainSingle().Which.ToString().Should().StartWith("environment RESPOND__GUARDS__LOCKOUT__MINIMUM: error RE0004");
    }

    [Fact]
    public void Load_Connectors_KeepsKindAndSettingsPerProvider()
    {
        using var temp = new TempDirectory();
        var file = temp.Write("respond.yaml", "connectors:\n  ad: { kind: ldap, server: dc01.corp.example.com, password_env: RESPOND_AD_PASSWORD }\n  okta: { kind: oktaa }\n");

        var load = ConfigLoader.Load(file, NoEnvironment);

        load.Diagnostics.Should().ContainSingle().Which.ToString().Should().Contain("3:17: error RE0005: field 'kind' is 'oktaa'; did you mean 'okta'?");
        var ok = ConfigLoader.Load(temp.Write("ok.yaml", "connectors:\n  ad: { kind: ldap, server: dc01 }\n"), NoEnvironment).Options!;
        ok.Connectors[Provider.Ad].Kind.Should().Be("ldap");
        ok.Connectors[Provider.Ad].Get("server").Should().Be("dc01");
        ok.Connectors.ContainsKey(Provider.Okta).Should().BeFalse();
    }
}
