using System.Text.Json;
using Microsoft.Data.Sqlite;
using Microsoft.Extensions.Time.Testing;
using ResponseEngine.TestKit;

namespace ResponseEngine.Cli.Tests;

/// <summary>
/// Effective privilege through `respond run --once` on the local directory and through `respond plan` on the same
/// snapshot: the privilege-graph cases (primary group, role-assignable group, nested group), break-glass accounts, and
/// in-run state (a later decision sees what an earlier one of the same run did). Each case is its own scratch world.
/// </summary>
public sealed class PrivilegeLockoutCliTests : IDisposable
{
    private readonly TempDirectory _temp = new();

    public void Dispose()
    {
        SqliteConnection.ClearAllPools();
        _temp.Dispose();
    }

    private sealed record Outcome(string Verdict, string Status, string? Guard, string? Reason);

    private static string Finding(string id, string provider, string userId, string type) =>
        $$$"""{"id":"{{{id}}}","source":"t","type":"{{{type}}}","severity":"high","observed_at":"2026-11-20T08:00:00Z","subject":{"provider":"{{{provider}}}","id":"{{{userId}}}"}}""";

    /// <summary>Runs the findings once through `respond run --once` and once through `respond plan`; both outcomes by finding id.</summary>
    private (int Exit, string Error, Dictionary<string, Outcome> Run, Dictionary<string, Outcome> Plan) Both(string directory, string[] findings,
        (string Id, string Yaml)[] rules, string config = "")
    {
        var world = Path.Combine(_temp.Path, Guid.NewGuid().ToString("N")[..8]);
        var dir = _temp.Write(Path.Combine(world, "directory.json"), directory);
        var findingsFile = _temp.Write(Path.Combine(world, "findings.ndjson"), string.Join('\n', findings));
        foreach (var (id, yaml) in rules) _temp.Write(Path.Combine(world, "rules", id + ".yaml"), yaml);
        var db = Path.Combine(world, "respond.db");
        var configFile = _temp.Write(Path.Combine(world, "respond.yaml"), $"""
            rules: {Path.Combine(world, "rules")}
            findings: [{findingsFile}]
            audit: {"{"} connection: {db} {"}"}
            local: {"{"} snapshot: {dir}, working_copy: {Path.Combine(world, "state", "directory.json")} {"}"}
            {config}
            """);
        var time = new FakeTimeProvider(Build.Now);
        var error = new StringWriter();
        var exit = CliApp.Run(["run", "--once", "--config", configFile], new StringWriter(), error, time);

        var export = new StringWriter();
        CliApp.Run(["audit", "export", "--format", "json", "--config", configFile], export, new StringWriter(), time).Should().Be(0);
        var run = new Dictionary<string, Outcome>();
        using (var rows = JsonDocument.Parse(export.ToString()))
        {
            foreach (var row in rows.RootElement.EnumerateArray())
            {
                var status = row.GetProperty("status").GetString()!;
                if (row.GetProperty("finding_id").GetString() is not { } finding || status == "intended") continue;
                run[finding + "/" + row.GetProperty("rule_id").GetString()] = new Outcome(row.GetProperty("verdict").GetString()!, status,
                    row.GetProperty("guard").GetString(), row.GetProperty("reason").GetString() ?? row.GetProperty("error").GetString());
            }
        }

        var planOut = new StringWriter();
        var planError = new StringWriter();
        var planExit = CliApp.Run(["plan", "--config", configFile, "--rules", Path.Combine(world, "rules"), "--findings", findingsFile, "--directory", dir, "--format", "json"], planOut, planError, time);
        planExit.Should().Be(0, planError.ToString());
        var plan = new Dictionary<string, Outcome>();
        using (var document = JsonDocument.Parse(planOut.ToString()))
        {
            foreach (var d in document.RootElement.GetProperty("decisions").EnumerateArray())
            {
                var key = d.GetProperty("finding").GetProperty("id").GetString() + "/" + d.GetProperty("rule").GetProperty("id").GetString();
                plan[key] = new Outcome(d.GetProperty("verdict").GetString()!, "", d.GetProperty("guard").GetString(), d.GetProperty("reason").GetString());
            }
        }

        return (exit, error.ToString(), run, plan);
    }

    private static string Rule(string id, string type, string provider, string actions) =>
        RuleFiles.Rule(id: id, types: $"[{type}]", providers: $"[{provider}]", actions: actions);

    [Fact]
    public void RunAndPlan_DisableLastDomainAdminByPrimaryGroup_Refused()
    {
        var (exit, error, run, plan) = Both("""
            { "groups": [ { "provider": "ad", "id": "g-da", "name": "Domain Admins" } ],
              "users": [
                { "provider": "ad", "id": "1", "name": "alice", "groups": ["Domain Admins"] },
                { "provider": "ad", "id": "2", "name": "svc-legacy", "primary_group": "Domain Admins" } ] }
            """, [Finding("f1", "ad", "2", "t_disable")], [("disable", Rule("disable", "t_disable", "ad", "  - action: disable_user"))]);

        exit.Should().Be(0, error);
        const string Reason = "'svc-legacy' holds Domain Admins as primary group; would leave 1 enabled holder, minimum 2";
        run["f1/disable"].Should().Be(new Outcome("skip", "skipped", "lockout_protection", Reason));
        plan["f1/disable"].Should().Be(new Outcome("skip", "", "lockout_protection", Reason));
    }

    [Fact]
    public void RunAndPlan_DisableLastGlobalAdminThroughRoleAssignableGroup_Refused()
    {
        var (exit, error, run, plan) = Both("""
            { "groups": [ { "provider": "entra", "id": "e-t0", "name": "Cloud Tier0", "role_assignable": true, "roles": ["Global Administrator"] } ],
              "users": [
                { "provider": "entra", "id": "1", "name": "erin", "upn": "erin@corp.example.com", "groups": ["Cloud Tier0"] },
                { "provider": "entra", "id": "2", "name": "gail", "upn": "gail@corp.example.com", "roles": ["Global Administrator"] } ] }
            """, [Finding("f1", "entra", "1", "t_disable")], [("disable", Rule("disable", "t_disable", "entra", "  - action: disable_user"))]);

        exit.Should().Be(0, error);
        const string Reason = "'erin' holds Global Administrator via Cloud Tier0; would leave 1 enabled holder, minimum 2";
        run["f1/disable"].Should().Be(new Outcome("skip", "skipped", "lockout_protection", Reason));
        plan["f1/disable"].Should().Be(new Outcome("skip", "", "lockout_protection", Reason));
    }

    private const string NestedDomainAdmins = """
        { "provider": "ad", "id": "g-da", "name": "Domain Admins" },
        { "provider": "ad", "id": "g-t0", "name": "Tier0 Operators", "member_of": ["Domain Admins"] }
        """;

    [Fact]
    public void RunAndPlan_RevokeNestedGroupLeavingOneHolder_Refused()
    {
        var (exit, error, run, plan) = Both($$"""
            { "groups": [ {{NestedDomainAdmins}} ],
              "users": [
                { "provider": "ad", "id": "1", "name": "alice", "groups": ["Domain Admins"] },
                { "provider": "ad", "id": "2", "name": "bob", "groups": ["Tier0 Operators"] } ] }
            """, [Finding("f1", "ad", "2", "t_revoke")],
            [("revoke", Rule("revoke", "t_revoke", "ad", "  - action: revoke_group\n    with: { groups: [Tier0 Operators] }"))]);

        exit.Should().Be(0, error);
        const string Reason = "'bob' holds Domain Admins via Tier0 Operators; would leave 1 enabled holder, minimum 2";
        run["f1/revoke"].Should().Be(new Outcome("skip", "skipped", "lockout_protection", Reason));
        plan["f1/revoke"].Should().Be(new Outcome("skip", "", "lockout_protection", Reason));
    }

    [Fact]
    public void RunAndPlan_RevokeDirectDomainAdminsOfAHolderKeptThroughNesting_Passes()
    {
        var (exit, error, run, plan) = Both($$"""
            { "groups": [ {{NestedDomainAdmins}} ],
              "users": [
                { "provider": "ad", "id": "1", "name": "alice", "groups": ["Domain Admins"] },
                { "provider": "ad", "id": "2", "name": "bob", "groups": ["Domain Admins", "Tier0 Operators"] } ] }
            """, [Finding("f1", "ad", "2", "t_revoke")],
            [("revoke", Rule("revoke", "t_revoke", "ad", "  - action: revoke_group\n    with: { groups: [Domain Admins] }"))]);

        exit.Should().Be(0, error);
        run["f1/revoke"].Status.Should().Be("succeeded");
        plan["f1/revoke"].Verdict.Should().Be("execute");
    }

    private const string OktaAdmins = """
        { "provider": "okta", "id": "a", "name": "a@corp.example.com", "roles": ["SUPER_ADMIN"] },
        { "provider": "okta", "id": "b", "name": "b@corp.example.com", "roles": ["SUPER_ADMIN"] },
        { "provider": "okta", "id": "bg", "name": "bg@corp.example.com", "roles": ["SUPER_ADMIN"], "tags": ["break_glass"] }
        """;

    [Fact]
    public void RunAndPlan_BreakGlassHolders_DoNotCountTowardTheMinimum()
    {
        var (exit, error, run, plan) = Both($$"""{ "users": [ {{OktaAdmins}} ] }""", [Finding("f1", "okta", "a", "t_deactivate")],
            [("deactivate", Rule("deactivate", "t_deactivate", "okta", "  - action: deactivate_user"))]);

        exit.Should().Be(0, error);
        const string Reason = "'a@corp.example.com' holds SUPER_ADMIN directly; would leave 1 enabled holder, minimum 2 (break-glass accounts not counted: 1)";
        run["f1/deactivate"].Should().Be(new Outcome("skip", "skipped", "lockout_protection", Reason));
        plan["f1/deactivate"].Should().Be(new Outcome("skip", "", "lockout_protection", Reason));
    }

    [Fact]
    public void RunAndPlan_CountBreakGlassConfigured_CountsThem()
    {
        var (exit, error, run, plan) = Both($$"""{ "users": [ {{OktaAdmins}} ] }""", [Finding("f1", "okta", "a", "t_deactivate")],
            [("deactivate", Rule("deactivate", "t_deactivate", "okta", "  - action: deactivate_user"))],
            "guards: { lockout: { count_break_glass: true } }");

        exit.Should().Be(0, error);
        run["f1/deactivate"].Status.Should().Be("succeeded");
        plan["f1/deactivate"].Verdict.Should().Be("execute");
    }

    [Fact]
    public void RunAndPlan_OktaUserSuspendedThenResetPasswordInOneRun_ResetRefusedByPrecondition()
    {
        var (exit, error, run, plan) = Both("""
            { "users": [ { "provider": "okta", "id": "u1", "name": "carol@corp.example.com", "okta_status": "ACTIVE" } ] }
            """, [Finding("f1", "okta", "u1", "t_hijack")],
            [
                ("a-suspend", Rule("a-suspend", "t_hijack", "okta", "  - action: disable_user")),
                ("b-reset", Rule("b-reset", "t_hijack", "okta", "  - action: reset_password")),
            ]);

        exit.Should().Be(0, "the reset is refused before Okta is called, not a failure: " + error);
        run["f1/a-suspend"].Status.Should().Be("succeeded");
        const string Reason = "the Okta user is SUSPENDED; Okta expires the password of ACTIVE users only (after disable_user (rule a-suspend) earlier in this run)";
        run["f1/b-reset"].Should().Be(new Outcome("skip", "skipped", "precondition", Reason));
        plan["f1/a-suspend"].Verdict.Should().Be("execute");
        plan["f1/b-reset"].Should().Be(new Outcome("skip", "", "precondition", Reason));
    }
}
