using System.Collections.Immutable;
using ResponseEngine.Actions;
using ResponseEngine.Execution;
using ResponseEngine.Findings;
using ResponseEngine.TestKit.ActiveDirectory;

namespace ResponseEngine.Connectors.ActiveDirectory.Tests;

/// <summary>Every AD action read back from the Samba DC's own attributes, privilege through nesting, injection, and refusals.</summary>
public sealed class AdLiveTests(SambaDc dc)
{
    private const string DomainAdmins = "CN=Domain Admins,CN=Users," + SambaDc.BaseDn;

    private static CancellationToken Cancel => TestContext.Current.CancellationToken;

    [Fact]
    public async Task Disable_ThenEnable_FlipsOnlyAccountDisable()
    {
        await using var h = await SambaHarness.StartAsync(dc, null, Cancel);
        var dn = h.AddUser("uacuser", extraFlags: 0x10000); // DONT_EXPIRE_PASSWORD must survive
        var request = await RequestAsync(h, h.AdConnector, "uacuser", "disable_user");

        await h.AdConnector.ApplyAsync(request, Cancel);
        h.Attribute(dn, "userAccountControl").Should().Be("66050");
        (await h.AdConnector.ReadAsync(request, Cancel)).AlreadyDone.Should().BeTrue();

        await h.AdConnector.ApplyAsync(request with { Action = Action("enable_user") }, Cancel);
        h.Attribute(dn, "userAccountControl").Should().Be("66048");
    }

    [Fact]
    public async Task Apply_DisabledByAnotherAdminSinceItWasRead_ReportsAlreadyDoneWithTheStateFoundAndWritesNothing()
    {
        await using var h = await SambaHarness.StartAsync(dc, null, Cancel);
        var dn = h.AddUser("raced");
        var request = await RequestAsync(h, h.AdConnector, "raced", "disable_user");
        var before = await h.AdConnector.ReadAsync(request, Cancel);
        before.AlreadyDone.Should().BeFalse();
        h.Replace(dn, "userAccountControl", "514"); // another admin, between the executor's read and its apply
        var usn = h.Attribute(dn, "uSNChanged");

        var changed = await h.AdConnector.Invoking(c => c.ApplyAsync(request, Cancel)).Should().ThrowExactlyAsync<TargetChangedException>();

        changed.Which.Current.AlreadyDone.Should().BeTrue();
        changed.Which.Current.PriorState.Should().NotBe(before.PriorState, "the state found when acting: undo must not enable the account again");
        h.Attribute(dn, "uSNChanged").Should().Be(usn, "nothing was written");
    }

    [Fact]
    public async Task ResetPassword_Plain_SetsPwdLastSetZero()
    {
        await using var h = await SambaHarness.StartAsync(dc, null, Cancel);
        var dn = h.AddUser("resetme");
        var request = await RequestAsync(h, h.AdConnector, "resetme", "reset_password");

        await h.AdConnector.ApplyAsync(request, Cancel);

        h.Attribute(dn, "pwdLastSet").Should().Be("0");
        h.Attribute(dn, "userAccountControl").Should().Be("512", "only pwdLastSet changes");
    }

    [Fact]
    public async Task ResetPassword_SetRandom_OldPasswordStopsWorkingAndASecondRunIsANoop()
    {
        await using var h = await SambaHarness.StartAsync(dc, null, Cancel);
        var dn = h.AddUser("leaked");
        h.Replace(dn, "pwdLastSet", "0"); // already must change: set_random must still replace the password
        var request = await RequestAsync(h, h.AdConnector, "leaked", "reset_password", ActionParameters.Empty.With("set_random", true));
        (await h.AdConnector.ReadAsync(request, Cancel)).AlreadyDone.Should().BeFalse("the leaked password still works for a password change");

        await h.AdConnector.ApplyAsync(request, Cancel);

        h.Attribute(dn, "pwdLastSet").Should().Be("0");
        h.Replace(dn, "pwdLastSet", "-1");
        h.CanBind("leaked@corp.example.com", SambaHarness.SeedPassword).Should().BeFalse("the old password was replaced");
        h.Replace(dn, "pwdLastSet", "0");
        var after = await h.AdConnector.ReadAsync(request, Cancel);
        after.AlreadyDone.Should().BeFalse("pwdLastSet was written again separately");

        await h.AdConnector.ApplyAsync(request, Cancel);
        var state = await h.AdConnector.ReadAsync(request, Cancel);
        state.AlreadyDone.Should().BeTrue(state.Description);
        state.PriorState.Should().NotContain("password\":\"").And.NotContain(SambaHarness.SeedPassword);
        var usn = h.Attribute(dn, "uSNChanged");
        var again = await h.AdConnector.Invoking(c => c.ApplyAsync(request, Cancel)).Should().ThrowExactlyAsync<TargetChangedException>("already done: a no-op, not a success");
        again.Which.Current.AlreadyDone.Should().BeTrue();
        h.Attribute(dn, "uSNChanged").Should().Be(usn, "a second run changes nothing");
        var identity = (await h.AdConnector.ResolveAsync(new Subject(Provider.Ad, null, "leaked"), Cancel)).Identity!;
        identity.RandomPasswordSetAt.Should().NotBeNull();
        identity.PasswordMustChange.Should().BeTrue();
    }

    [Fact]
    public async Task RevokeGroup_RemovesDirectMembershipOnly_MissingGroupAndNonMemberAreNoops()
    {
        await using var h = await SambaHarness.StartAsync(dc, null, Cancel);
        var user = h.AddUser("grouped");
        var outer = h.AddGroup("Outer Ops");
        var inner = h.AddGroup("ops-tier0", cn: "Ops (Tier*0), \"core\" + más");
        h.AddMember(outer, inner);
        h.AddMember(inner, user);
        var request = await RequestAsync(h, h.AdConnector, "grouped", "revoke_group",
            ActionParameters.Empty.With("groups", ImmutableArray.Create("Ops (Tier*0), \"core\" + más", "Outer Ops", "No Such Group")));

        var before = await h.AdConnector.ReadAsync(request, Cancel);
        await h.AdConnector.ApplyAsync(request, Cancel);

        h.Attributes(inner, "member").Should().BeEmpty();
        h.Attributes(outer, "member").Should().Equal(inner);
        (await h.AdConnector.ReadAsync(request, Cancel)).AlreadyDone.Should().BeTrue();
        // Nothing left to remove: reported as already done (the executor records a no-op), nothing written.
        (await h.AdConnector.Invoking(c => c.ApplyAsync(request, Cancel)).Should().ThrowExactlyAsync<TargetChangedException>()).Which.Current.AlreadyDone.Should().BeTrue();

        await h.AdConnector.RestoreAsync(request, before.PriorState, Cancel);
        h.Attributes(inner, "member").Should().Equal(user);
    }

    [Fact]
    public async Task Resolve_NestedInDomainAdmins_IsPrivilegedAndCountedUntilDisabled()
    {
        await using var h = await SambaHarness.StartAsync(dc, null, Cancel);
        using var domain = h.Create(BaseDn: SambaDc.BaseDn);
        var tier0 = h.AddGroup("Tier0 Ops Live");
        var admin = h.AddUser("nestedadmin");
        var idle = h.AddUser("disabledadmin", enabled: false);
        h.AddMember(tier0, admin);
        h.AddMember(tier0, idle);
        h.AddMember(DomainAdmins, tier0);
        try
        {
            var identity = (await domain.ResolveAsync(new Subject(Provider.Ad, null, "nestedadmin"), Cancel)).Identity!;
            identity.Privileged.Should().BeTrue("Tier0 Ops Live is nested in Domain Admins");
            identity.TransitiveGroups.Should().Contain(["Domain Admins", "Tier0 Ops Live"]);
            identity.Groups.Select(g => g.Name).Should().BeEquivalentTo(["Tier0 Ops Live", "Domain Users"], "Domain Users is its primary group");
            identity.PrimaryGroup.Should().Be("Domain Users");

            var critical = await domain.CountCriticalAsync("Domain Admins", Cancel);
            critical.EnabledMemberIds.Should().HaveCount(2, "Administrator and nestedadmin; disabledadmin cannot sign in");
            critical.EnabledMemberIds.Should().Contain(identity.Id);

            await domain.ApplyAsync(new ActionRequest(Action("disable_user"), ActionParameters.Empty, new TargetRef(Provider.Ad, identity.Id, identity.Name)), Cancel);
            (await domain.CountCriticalAsync("Domain Admins", Cancel)).EnabledMemberIds.Should().HaveCount(1);
        }
        finally
        {
            h.Admin.SendRequest(new System.DirectoryServices.Protocols.ModifyRequest(DomainAdmins, System.DirectoryServices.Protocols.DirectoryAttributeOperation.Delete, "member", tier0));
        }
    }

    [Fact]
    public async Task Executor_RuleThatWouldDisableEveryDomainAdmin_LeavesTheMinimumEnabledOnLiveAd()
    {
        await using var h = await SambaHarness.StartAsync(dc, null, Cancel);
        using var domain = h.Create(BaseDn: SambaDc.BaseDn);
        var admins = Enumerable.Range(1, 4).Select(i => h.AddUser($"lockadmin{i}")).ToList();
        foreach (var admin in admins) h.AddMember(DomainAdmins, admin);
        try
        {
            var before = (await domain.CountCriticalAsync("Domain Admins", Cancel)).EnabledMemberIds.Length;
            var time = new Microsoft.Extensions.Time.Testing.FakeTimeProvider(new DateTimeOffset(2026, 11, 26, 8, 0, 0, TimeSpan.Zero));
            await using var store = new ResponseEngine.TestKit.Fakes.InMemoryAuditStore(time);
            var run = new RunContext("live-lockout", new Configuration.EngineOptions(), store, new Dictionary<Provider, IConnector> { [Provider.Ad] = domain },
                time, dryRun: false, "tests", "host", "test");
            var rules = ResponseEngine.TestKit.RuleFiles.Load(ResponseEngine.TestKit.RuleFiles.Rule(id: "disable-every-admin", when: "member_of('Domain Admins')")).RuleSet!;
            var findings = Enumerable.Range(1, 4).Select(i => new Finding($"f{i}", "test", FindingKind.Detection, "weak_password", Severity.High,
                time.GetUtcNow(), new Subject(Provider.Ad, null, $"lockadmin{i}"), "t", Finding.NoAttributes)).ToList();

            var (_, summary) = await ResponseRun.RunAsync(rules, findings, run, null, Cancel);

            var after = (await domain.CountCriticalAsync("Domain Admins", Cancel)).EnabledMemberIds.Length;
            after.Should().BeGreaterThanOrEqualTo(2, "lockout protection keeps the configured minimum of enabled Domain Admins");
            summary.Count(Audit.AuditStatus.Succeeded).Should().Be(Math.Min(4, before - 2));
            summary.Results.Where(r => r.Status == Audit.AuditStatus.Skipped).Should().OnlyContain(r => r.Decision.Guard == "lockout_protection")
                .And.HaveCount(4 - Math.Min(4, before - 2));
            foreach (var result in summary.Results.Where(r => r.Status == Audit.AuditStatus.Succeeded))
            {
                h.Attribute(h.UserDn(result.Decision.Identity!.Name), "userAccountControl").Should().Be("514", "disabled on the DC itself");
            }
        }
        finally
        {
            foreach (var admin in admins)
            {
                h.Admin.SendRequest(new System.DirectoryServices.Protocols.ModifyRequest(DomainAdmins, System.DirectoryServices.Protocols.DirectoryAttributeOperation.Delete, "member", admin));
            }
        }
    }

    [Fact]
    [Trait("Reads", ResponseEngine.TestKit.RepoPaths.ReadsShippedRules)]
    public async Task Executor_DefenderAlertNamingTheAccountOnlyBySidAndDomainAccount_ShippedRuleActsOnTheLiveAccount()
    {
        await using var h = await SambaHarness.StartAsync(dc, null, Cancel);
        var dn = h.AddUser("sidann");
        var sid = Identities.Sids.ToText((byte[])h.Read(dn, "objectSid").Attributes["objectSid"][0]!)!;
        sid.Should().StartWith("S-1-5-21-", "the DC's own objectSid");

        // The documented alerts_v2 example (tests/ResponseEngine.Service.Tests/Corpus) with its account turned into this
        // on-premises user, as Defender for Identity reports one: accountName, domainName and userSid, no Entra id or UPN.
        var page = System.Text.Json.Nodes.JsonNode.Parse(File.ReadAllText(Path.Combine(ResponseEngine.TestKit.RepoPaths.Root, "tests", "ResponseEngine.Service.Tests", "Corpus", "graph-alerts_v2-list-v1.0.json")))!;
        var alert = page["value"]![0]!.AsObject();
        alert["title"] = "Suspected DCSync attack (replication of directory services)";
        alert["severity"] = "high";
        var account = alert["evidence"]![2]!["userAccount"]!.AsObject();
        account["accountName"] = "sidann";
        account["domainName"] = "TEST";
        account["userSid"] = sid;
        var options = new Configuration.PollerOptions("alerts", "graph_alerts", TimeSpan.FromMinutes(1), ImmutableDictionary<string, string>.Empty);
        var mapped = Service.Pollers.GraphAlerts.Map(alert, options).Single();
        mapped["subject"]!.ToJsonString().Should().Be($$"""{"provider":"ad","id":"{{sid}}","name":"TEST\\sidann"}""");
        var load = FindingReader.ReadBytes(System.Text.Encoding.UTF8.GetBytes(mapped.ToJsonString()), "alert.json");
        load.HasErrors.Should().BeFalse(string.Join("; ", load.Diagnostics));
        var finding = load.Findings.Single();
        finding.Type.Should().Be("dcsync");

        var byId = await h.AdConnector.ResolveAsync(new Subject(Provider.Ad, sid, null), Cancel);
        byId.Identity.Should().NotBeNull(byId.Problem);
        (byId.Identity!.Name, byId.Identity.Sid).Should().Be(("sidann", sid));
        (await h.AdConnector.ResolveAsync(new Subject(Provider.Ad, sid.ToLowerInvariant(), null), Cancel)).Identity!.Id.Should().Be(byId.Identity.Id);
        (await h.AdConnector.ResolveAsync(new Subject(Provider.Ad, null, "TEST\\sidann"), Cancel)).Identity!.Id.Should().Be(byId.Identity.Id);
        (await h.AdConnector.ResolveAsync(new Subject(Provider.Ad, sid[..sid.LastIndexOf('-')] + "-999999", "TEST\\sidann"), Cancel)).Identity
            .Should().BeNull("an unknown SID is no one, whatever the name says");
        var export = await h.AdConnector.ExportAsync(Cancel);
        export.Users.Single(u => u.Name == "sidann").Sid.Should().Be(sid, "`respond snapshot` keeps the SID, so a plan on the snapshot finds the account too");

        var time = new Microsoft.Extensions.Time.Testing.FakeTimeProvider(finding.ObservedAt.AddMinutes(5));
        await using var store = new ResponseEngine.TestKit.Fakes.InMemoryAuditStore(time);
        var run = new RunContext("live-sid", new Configuration.EngineOptions(), store, new Dictionary<Provider, IConnector> { [Provider.Ad] = h.AdConnector },
            time, dryRun: false, "tests", "host", "test");
        var rules = Policy.Rules.RuleLoader.Default(time).LoadDirectory(ResponseEngine.TestKit.RepoPaths.Rules);
        rules.RuleSet.Should().NotBeNull();
        var dcsyncRules = rules.RuleSet!.Rules.Where(r => r.Match.Types.Contains("dcsync") && r.Match.Providers.Contains(Provider.Ad)).Select(r => r.Id).ToList();
        dcsyncRules.Should().NotBeEmpty("the shipped rules answer DCSync on AD accounts");

        var (_, summary) = await ResponseRun.RunAsync(rules.RuleSet, [finding], run, null, Cancel);

        summary.Results.Where(r => r.Status == Audit.AuditStatus.Succeeded).Select(r => (r.Decision.Rule.Id, r.Decision.Identity!.Name, r.Decision.Action?.Name))
            .Should().Contain((dcsyncRules[0], "sidann", "disable_user"), string.Join("; ", summary.Results.Select(r => $"{r.Decision.Rule.Id} {r.Decision.Action?.Name} {r.Status} {r.Decision.Reason}")));
        h.Attribute(dn, "userAccountControl").Should().Be("514", "disabled on the DC itself");
    }

    [Theory]
    [InlineData("*)(objectClass=*")]
    [InlineData("admin*")]
    [InlineData("*")]
    [InlineData("*@corp.example.com")]
    [InlineData("x)(|(sAMAccountName=*")]
    [InlineData("victim\0")]
    public async Task Resolve_FilterInjection_AffectsNobody(string name)
    {
        await using var h = await SambaHarness.StartAsync(dc, null, Cancel);
        h.AddUser("admin1");
        h.AddUser("victim");
        using var domain = h.Create(BaseDn: SambaDc.BaseDn);

        var lookup = await domain.ResolveAsync(new Subject(Provider.Ad, null, name), Cancel);

        lookup.Identity.Should().BeNull();
        lookup.Problem.Should().Contain("no AD account");
        (await domain.ResolveAsync(new Subject(Provider.Ad, name, null), Cancel)).Identity.Should().BeNull("ids are escaped too");
    }

    [Fact]
    public async Task Resolve_SpecialCharactersInCnAndNonAsciiNames_ByDnGuidSamAndUpn()
    {
        await using var h = await SambaHarness.StartAsync(dc, null, Cancel);
        const string cn = "Smith, John \"JJ\" + Co; <x> #1 \\ zoë";
        var dn = h.AddUser("zoë.smith", cn: cn, upn: "zoë.smith@corp.example.com");

        var byDn = await h.AdConnector.ResolveAsync(new Subject(Provider.Ad, dn, null), Cancel);
        byDn.Problem.Should().BeNull();
        var id = byDn.Identity!.Id;
        (await h.AdConnector.ResolveAsync(new Subject(Provider.Ad, null, "zoë.smith"), Cancel)).Identity!.Id.Should().Be(id);
        (await h.AdConnector.ResolveAsync(new Subject(Provider.Ad, null, "zoë.smith@corp.example.com"), Cancel)).Identity!.Id.Should().Be(id);
        (await h.AdConnector.ResolveAsync(new Subject(Provider.Ad, id, null), Cancel)).Identity!.Name.Should().Be("zoë.smith");
        (await h.AdConnector.ResolveAsync(new Subject(Provider.Ad, "CN=nobody," + h.Ou, null), Cancel)).Identity.Should().BeNull();
        (await h.AdConnector.ResolveAsync(new Subject(Provider.Ad, "CN=Administrator,CN=Users," + SambaDc.BaseDn, null), Cancel)).Identity
            .Should().BeNull("a DN outside the configured base is not looked at");

        var request = await RequestAsync(h, h.AdConnector, "zoë.smith", "disable_user");
        await h.AdConnector.ApplyAsync(request, Cancel);
        h.Attribute(dn, "userAccountControl").Should().Be("514");
    }

    [Fact]
    public async Task Apply_ServiceAccountWithoutRights_FailsNamingTheRight()
    {
        await using var h = await SambaHarness.StartAsync(dc, null, Cancel);
        h.AddUser("weaksvc");
        var target = h.AddUser("protected");
        var file = Path.Combine(Path.GetDirectoryName(h.PasswordFile)!, "weak-password");
        await File.WriteAllTextAsync(file, SambaHarness.SeedPassword, Cancel);
        using var weak = h.Create(options: h.Options() with { BindDn = "weaksvc@corp.example.com", PasswordFile = file });
        var request = await RequestAsync(h, weak, "protected", "disable_user");

        var error = (await weak.Invoking(c => c.ApplyAsync(request, Cancel)).Should().ThrowAsync<ConnectorException>()).Which;

        error.Message.Should().Contain("LDAP 50").And.Contain("Write property userAccountControl");
        error.Transient.Should().BeFalse();
        h.Attribute(target, "userAccountControl").Should().Be("512");
    }

    [Fact]
    public async Task Bind_WrongPasswordOrUntrustedCertificate_FailsClosedWithAReason()
    {
        await using var h = await SambaHarness.StartAsync(dc, null, Cancel);
        var wrong = Path.Combine(Path.GetDirectoryName(h.PasswordFile)!, "wrong");
        await File.WriteAllTextAsync(wrong, "not-the-password", Cancel);
        using var badPassword = h.Create(options: h.Options() with { PasswordFile = wrong });
        using var badCa = h.Create(options: h.Options() with { CaBundle = OtherCa(h) });

        var lookup = await badPassword.ResolveAsync(new Subject(Provider.Ad, null, "anyone"), Cancel);
        lookup.Identity.Should().BeNull();
        lookup.Problem.Should().Contain("LDAP 49");

        var untrusted = await badCa.ResolveAsync(new Subject(Provider.Ad, null, "anyone"), Cancel);
        untrusted.Problem.Should().Contain("LDAP 81").And.Contain("ca_bundle");
    }

    [Fact]
    public async Task Bind_InsecureLabSwitch_ConnectsWithoutTheCaAndWarns()
    {
        await using var h = await SambaHarness.StartAsync(dc, null, Cancel);
        h.AddUser("labuser");
        using var insecure = h.Create(options: h.Options() with { CaBundle = null, InsecureSkipCertificateValidation = true });

        var lookup = await insecure.ResolveAsync(new Subject(Provider.Ad, null, "labuser"), Cancel);

        lookup.Problem.Should().BeNull();
        h.Warnings.Should().ContainSingle(w => w.Contains("NOT checked", StringComparison.Ordinal) && w.Contains("Lab use only", StringComparison.Ordinal));
        using var strict = h.Create(options: h.Options() with { CaBundle = OtherCa(h) });
        (await strict.ResolveAsync(new Subject(Provider.Ad, null, "labuser"), Cancel)).Identity.Should().BeNull("the switch did not leak into other connections");
    }

    private static string OtherCa(SambaHarness h)
    {
        using var key = System.Security.Cryptography.RSA.Create(2048);
        var request = new System.Security.Cryptography.X509Certificates.CertificateRequest("CN=Some Other CA", key, System.Security.Cryptography.HashAlgorithmName.SHA256, System.Security.Cryptography.RSASignaturePadding.Pkcs1);
        request.CertificateExtensions.Add(new System.Security.Cryptography.X509Certificates.X509BasicConstraintsExtension(true, false, 0, true));
        using var certificate = request.CreateSelfSigned(h.Time.GetUtcNow().AddDays(-1), h.Time.GetUtcNow().AddYears(1));
        var path = Path.Combine(Path.GetDirectoryName(h.PasswordFile)!, "other-ca.pem");
        File.WriteAllText(path, certificate.ExportCertificatePem());
        return path;
    }

    private static ActionDefinition Action(string name) => ActionCatalogue.Default.Find(name)!;

    private static async Task<ActionRequest> RequestAsync(SambaHarness h, AdConnector connector, string name, string action, ActionParameters? parameters = null)
    {
        var identity = (await connector.ResolveAsync(new Subject(Provider.Ad, null, name), Cancel)).Identity
            ?? throw new InvalidOperationException($"{name} does not resolve under {h.Ou}");
        return new ActionRequest(Action(action), parameters ?? ActionParameters.Empty, new TargetRef(Provider.Ad, identity.Id, identity.Name));
    }
}
