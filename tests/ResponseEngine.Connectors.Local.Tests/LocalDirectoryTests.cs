using System.Collections.Immutable;
using System.Security.Cryptography;
using System.Text.Json.Nodes;
using Microsoft.Extensions.Time.Testing;
using ResponseEngine.Actions;
using ResponseEngine.Execution;
using ResponseEngine.Findings;
using ResponseEngine.Identities;
using ResponseEngine.TestKit;

namespace ResponseEngine.Connectors.Local.Tests;

public class LocalDirectoryTests
{
    private static CancellationToken Cancel => TestContext.Current.CancellationToken;

    private static ActionRequest Request(string action, Provider provider, string id, ActionParameters? parameters = null) =>
        new(ActionCatalogue.Default.Find(action)!, parameters ?? ActionParameters.Empty, new TargetRef(provider, id, id));

    private static async Task<Identity> ResolveAsync(IConnector connector, string name) =>
        (await connector.ResolveAsync(new Subject(connector.Provider, null, name), Cancel)).Identity!;

    private const string Seed = """
        {
          "version": 1,
          "groups": [
            {"provider": "entra", "id": "g1", "name": "All Staff", "dynamic": true},
            {"provider": "okta", "id": "g2", "name": "Workday Users", "okta_type": "APP_GROUP"},
            {"provider": "okta", "id": "g3", "name": "Okta Admins", "okta_type": "OKTA_GROUP"}
          ],
          "users": [
            {"provider": "ad", "id": "a1", "name": "alice", "groups": ["Domain Admins"]},
            {"provider": "entra", "id": "e1", "name": "erin", "groups": ["All Staff"]},
            {"provider": "entra", "id": "e2", "name": "eve", "last_sign_in_at": "2026-11-26T07:00:00Z"},
            {"provider": "okta", "id": "o1", "name": "olga", "groups": ["Workday Users", "Okta Admins"]},
            {"provider": "okta", "id": "o2", "name": "oscar", "okta_status": "PASSWORD_EXPIRED"}
          ]
        }
        """;

    [Fact]
    public async Task Apply_OnTheSample_ChangesOnlyTheWorkingCopy()
    {
        using var folder = new TempDirectory();
        var before = SHA256.HashData(await File.ReadAllBytesAsync(RepoPaths.SampleDirectory, Cancel));
        using var directory = LocalDirectory.Open(RepoPaths.SampleDirectory, Path.Combine(folder.Path, "respond.state", "directory.json"), new FakeTimeProvider());
        var ad = directory.Connector(Provider.Ad);
        var alice = await ResolveAsync(ad, "adm-aarcher");

        await ad.ApplyAsync(Request("disable_user", Provider.Ad, alice.Id), Cancel);
        await ad.ApplyAsync(Request("revoke_group", Provider.Ad, alice.Id, ActionParameters.Empty.With("groups", ImmutableArray.Create("Domain Admins"))), Cancel);

        SHA256.HashData(await File.ReadAllBytesAsync(RepoPaths.SampleDirectory, Cancel)).Should().Equal(before, "the sample is never written");
        var now = (await directory.ReadSnapshotAsync(Cancel)).Resolve(new Subject(Provider.Ad, alice.Id, null)).Identity!;
        now.Enabled.Should().BeFalse();
        now.IsMemberOf("Domain Admins").Should().BeFalse();
    }

    [Fact]
    public async Task ApplyThenRestore_OnTheSample_GivesTheSampleBackByteForByte()
    {
        using var folder = new TempDirectory();
        var working = Path.Combine(folder.Path, "directory.json");
        using var directory = LocalDirectory.Open(RepoPaths.SampleDirectory, working, new FakeTimeProvider());
        var okta = directory.Connector(Provider.Okta);
        var user = await ResolveAsync(okta, "alice.archer@corp.example.com");
        var request = Request("revoke_group", Provider.Okta, user.Id, ActionParameters.Empty.With("groups", ImmutableArray.Create("Okta Super Admins")));

        var prior = await okta.ReadAsync(request, Cancel);
        await okta.ApplyAsync(request, Cancel);
        await okta.RestoreAsync(request, prior.PriorState, Cancel);

        // The writer keeps the sample's layout (one account per line), so a diff shows only the accounts the engine changed;
        // the group was last in the user's list, so undo gives the sample back exactly.
        var groups = (await directory.ReadSnapshotAsync(Cancel)).Resolve(new Subject(Provider.Okta, user.Id, null)).Identity!.Groups.Select(g => g.Name);
        groups.Should().EndWith("Okta Super Admins");
        await directory.CompactAsync(Cancel);
        (await File.ReadAllBytesAsync(working, Cancel)).Should().Equal(await File.ReadAllBytesAsync(RepoPaths.SampleDirectory, Cancel));
    }

    [Fact]
    public async Task Apply_Many_LeavesNoTemporaryFilesBehind()
    {
        await using var harness = new LocalHarness(Seed, Provider.Ad);
        foreach (var action in new[] { "disable_user", "enable_user", "reset_password", "disable_user" })
        {
            await harness.Connector.ApplyAsync(Request(action, Provider.Ad, "a1"), Cancel);
        }

        Directory.EnumerateFiles(Path.GetDirectoryName(harness.WorkingCopyPath)!).Select(Path.GetFileName)
            .Should().BeEquivalentTo(["directory.json", "directory.json.lock", "directory.json.journal"]);
    }

    [Fact]
    public async Task Apply_FromTwoDirectoryObjectsOnOneFile_LosesNoUpdate()
    {
        // Two LocalDirectory objects have separate in-process locks, like two processes: only the lock file serialises them.
        using var folder = new TempDirectory();
        var users = Enumerable.Range(0, 40).Select(i => new JsonObject { ["provider"] = "ad", ["id"] = $"u{i}", ["name"] = $"user{i}" });
        var seed = folder.Write("seed.json", new JsonObject { ["version"] = 1, ["users"] = new JsonArray([.. users]) }.ToJsonString());
        var working = Path.Combine(folder.Path, "state", "directory.json");
        using var first = LocalDirectory.Open(seed, working, new FakeTimeProvider());
        using var second = LocalDirectory.Open(seed, working, new FakeTimeProvider());
        var connectors = new[] { first.Connector(Provider.Ad), second.Connector(Provider.Ad) };

        await Task.WhenAll(Enumerable.Range(0, 40).Select(i => Task.Run(async () =>
        {
            var connector = connectors[i % 2];
            var action = i % 4 < 2 ? "disable_user" : "reset_password";
            await connector.ApplyAsync(Request(action, Provider.Ad, $"u{i}"), Cancel);
        }, Cancel)));

        var snapshot = await first.ReadSnapshotAsync(Cancel);
        snapshot.Users.Where((u, i) => int.Parse(u.Id[1..], System.Globalization.CultureInfo.InvariantCulture) % 4 < 2).Should().OnlyContain(u => !u.Enabled);
        snapshot.Users.Where(u => int.Parse(u.Id[1..], System.Globalization.CultureInfo.InvariantCulture) % 4 >= 2).Should().OnlyContain(u => u.PasswordMustChange && u.Enabled);
        snapshot.Users.Should().HaveCount(40);
    }

    [Fact]
    public async Task Apply_OktaUnsuspendFromTheWrongStatus_IsRefusedLikeOkta()
    {
        await using var harness = new LocalHarness(Seed.Replace("PASSWORD_EXPIRED", "LOCKED_OUT", StringComparison.Ordinal), Provider.Okta);
        var request = Request("enable_user", Provider.Okta, "o2");
        (await harness.Connector.ReadAsync(request, Cancel)).AlreadyDone.Should().BeFalse();

        var failure = await harness.Invoking(h => h.Connector.ApplyAsync(request, Cancel)).Should().ThrowExactlyAsync<ConnectorException>();

        failure.Which.Message.Should().StartWith("Okta E0000001: Api validation failed: cannot unsuspend");
        failure.Which.Transient.Should().BeFalse();
    }

    /// <summary>
    /// The guards refuse disable_user and reset_password of a user who is not ACTIVE; one that reaches the connector met
    /// an account changed since (another run, a person): reported with the state found, nothing written, never a failure.
    /// </summary>
    [Theory]
    [InlineData("disable_user", "PASSWORD_EXPIRED", "Okta suspends ACTIVE users only")]
    [InlineData("disable_user", "LOCKED_OUT", "Okta suspends ACTIVE users only")]
    [InlineData("reset_password", "SUSPENDED", "Okta expires the password of ACTIVE users only")]
    [InlineData("reset_password", "LOCKED_OUT", "Okta expires the password of ACTIVE users only")]
    public async Task Apply_OktaLifecycleOnAUserNoLongerActive_ReportsTheStatusFoundAndWritesNothing(string action, string status, string rule)
    {
        await using var harness = new LocalHarness(Seed.Replace("PASSWORD_EXPIRED", status, StringComparison.Ordinal), Provider.Okta);
        var request = Request(action, Provider.Okta, "o2");
        await harness.Connector.ReadAsync(request, Cancel); // creates the working copy
        var before = await harness.WorkingCopyBytesAsync(Cancel);

        var changed = await harness.Invoking(h => h.Connector.ApplyAsync(request, Cancel)).Should().ThrowExactlyAsync<TargetChangedException>();

        changed.Which.Message.Should().Contain($"the Okta user is {status}; {rule}").And.Contain("nothing done");
        changed.Which.Current.AlreadyDone.Should().BeFalse();
        changed.Which.Current.PriorState.Should().Be($$"""{"okta_status":"{{status}}"}""");
        (await harness.WorkingCopyBytesAsync(Cancel)).Should().Equal(before);
    }

    [Theory]
    [InlineData("disable_user", "deactivate_user", """{"okta_status":"DEPROVISIONED"}""")]
    [InlineData("deactivate_user", "deactivate_user", """{"okta_status":"DEPROVISIONED"}""")]
    [InlineData("reset_password", "reset_password", """{"okta_status":"PASSWORD_EXPIRED"}""")]
    public async Task Apply_OktaUserChangedByAnotherProcessSinceItWasRead_ReportsAlreadyDoneWithTheStateFound(string action, string other, string found)
    {
        // Two LocalDirectory objects on one file are two processes: the second changes the account between the first's read and apply.
        await using var harness = new LocalHarness(Seed, Provider.Okta);
        var request = Request(action, Provider.Okta, "o1");
        (await harness.Connector.ReadAsync(request, Cancel)).AlreadyDone.Should().BeFalse();
        using (var second = LocalDirectory.Open(harness.SeedPath, harness.WorkingCopyPath, harness.Time))
        {
            await second.Connector(Provider.Okta).ApplyAsync(Request(other, Provider.Okta, "o1"), Cancel);
        }

        var before = await harness.WorkingCopyBytesAsync(Cancel);

        var changed = await harness.Invoking(h => h.Connector.ApplyAsync(request, Cancel)).Should().ThrowExactlyAsync<TargetChangedException>();

        changed.Which.Current.AlreadyDone.Should().BeTrue();
        changed.Which.Current.PriorState.Should().Be(found, "the state found when acting: undo must not restore the ACTIVE state read before");
        changed.Which.Message.Should().Contain("changed since it was read");
        (await harness.WorkingCopyBytesAsync(Cancel)).Should().Equal(before);
    }

    [Fact]
    public async Task Apply_OktaLifecycle_FollowsOktasStatuses()
    {
        await using var harness = new LocalHarness(Seed, Provider.Okta);
        var okta = harness.Connector;

        (await okta.ReadAsync(Request("disable_user", Provider.Okta, "o1"), Cancel)).PriorState.Should().Be("""{"okta_status":"ACTIVE"}""");
        await okta.ApplyAsync(Request("disable_user", Provider.Okta, "o1"), Cancel);
        (await harness.InspectAsync("o1", Cancel))!.OktaStatus.Should().Be("SUSPENDED");
        (await harness.InspectAsync("o1", Cancel))!.Enabled.Should().BeFalse();
        await okta.ApplyAsync(Request("enable_user", Provider.Okta, "o1"), Cancel);
        await okta.ApplyAsync(Request("deactivate_user", Provider.Okta, "o1"), Cancel);
        (await harness.InspectAsync("o1", Cancel))!.OktaStatus.Should().Be("DEPROVISIONED");
        (await okta.ReadAsync(Request("disable_user", Provider.Okta, "o1"), Cancel)).AlreadyDone.Should().BeTrue("a deprovisioned user cannot sign in either");
        (await okta.ReadAsync(Request("enable_user", Provider.Okta, "o2"), Cancel)).AlreadyDone.Should().BeTrue("PASSWORD_EXPIRED users can sign in");
    }

    [Fact]
    public async Task ResetPassword_WithSetRandom_RecordsOnlyWhenNeverAPassword()
    {
        await using var harness = new LocalHarness(Seed, Provider.Ad);
        harness.Time.Advance(TimeSpan.FromMinutes(5));
        var request = Request("reset_password", Provider.Ad, "a1", ActionParameters.Empty.With("set_random", true));
        var before = JsonNode.Parse(await File.ReadAllTextAsync(harness.SeedPath, Cancel))!["users"]![0]!.AsObject();

        await harness.Connector.ApplyAsync(request, Cancel);

        var after = JsonNode.Parse(await harness.WorkingCopyTextAsync(Cancel))!["users"]![0]!.AsObject();
        after.Select(p => p.Key).Except(before.Select(p => p.Key)).Should().BeEquivalentTo(["password_must_change", "random_password_set_at"]);
        ((string?)after["random_password_set_at"]).Should().Be("2026-11-26T08:05:00Z");
        (await harness.Connector.ReadAsync(request, Cancel)).AlreadyDone.Should().BeTrue();
        Directory.EnumerateFiles(Path.GetDirectoryName(harness.WorkingCopyPath)!).Should().HaveCount(3, "the working copy, its journal and its lock file, nothing else");
        (await harness.Connector.ReadAsync(request, Cancel)).PriorState.Should().NotContainAny("\"password\"", "secret");
    }

    [Fact]
    public async Task RevokeSessions_RecordsTheTimeAndIsDueAgainAfterANewSignIn()
    {
        await using var harness = new LocalHarness(Seed, Provider.Entra);
        var request = Request("revoke_sessions", Provider.Entra, "e2");

        await harness.Connector.ApplyAsync(request, Cancel);

        (await harness.InspectAsync("e2", Cancel))!.SessionsRevokedAt.Should().Be(LocalHarness.Start);
        (await harness.Connector.ReadAsync(request, Cancel)).AlreadyDone.Should().BeTrue("no sign-in since the revocation");
        var text = await harness.WorkingCopyTextAsync(Cancel);
        await File.WriteAllTextAsync(harness.WorkingCopyPath, text.Replace("2026-11-26T07:00:00Z", "2026-11-26T09:00:00Z", StringComparison.Ordinal), Cancel);
        (await harness.Connector.ReadAsync(request, Cancel)).AlreadyDone.Should().BeFalse("the user signed in after the revocation");
    }

    [Theory]
    [InlineData(Provider.Entra, "e1", "All Staff", "dynamic group")]
    [InlineData(Provider.Okta, "o1", "Workday Users", "APP_GROUP")]
    public async Task RevokeGroup_GroupTheProviderWillNotEdit_IsRefusedAndNothingChanges(Provider provider, string id, string group, string reason)
    {
        await using var harness = new LocalHarness(Seed, provider);
        var request = Request("revoke_group", provider, id, ActionParameters.Empty.With("groups", ImmutableArray.Create(group, "Okta Admins")));
        var before = await File.ReadAllTextAsync(harness.SeedPath, Cancel);
        await harness.Directory.ReadSnapshotAsync(Cancel);
        var working = await harness.WorkingCopyTextAsync(Cancel);

        (await harness.Invoking(h => h.Connector.ApplyAsync(request, Cancel)).Should().ThrowAsync<ConnectorException>()).Which.Message.Should().Contain(reason);

        (await harness.WorkingCopyTextAsync(Cancel)).Should().Be(working);
        before.Should().NotBeEmpty();
    }

    [Fact]
    public async Task RevokeGroup_NotAMemberOrNoSuchGroup_IsAlreadyDone()
    {
        await using var harness = new LocalHarness(Seed, Provider.Ad);
        var request = Request("revoke_group", Provider.Ad, "a1", ActionParameters.Empty.With("groups", ImmutableArray.Create("Enterprise Admins", "No Such Group")));

        var state = await harness.Connector.ReadAsync(request, Cancel);

        state.AlreadyDone.Should().BeTrue();
        state.PriorState.Should().Be("""{"groups":[]}""");
    }

    [Fact]
    public async Task EnforceMfa_NamedPolicy_AddsTheUserAndUndoRemovesIt()
    {
        await using var harness = new LocalHarness(Seed, Provider.Entra);
        var request = Request("enforce_mfa", Provider.Entra, "e1", ActionParameters.Empty.With("policy_name", "Contractors MFA"));

        var prior = await harness.Connector.ReadAsync(request, Cancel);
        await harness.Connector.ApplyAsync(request, Cancel);
        (await harness.InspectAsync("e1", Cancel))!.MfaPolicies.Should().Equal("Contractors MFA");
        await harness.Connector.RestoreAsync(request, prior.PriorState, Cancel);

        prior.PriorState.Should().Be("""{"policy_name":"Contractors MFA","covered":false}""");
        (await harness.InspectAsync("e1", Cancel))!.MfaPolicies.Should().BeEmpty();
        (await harness.WorkingCopyTextAsync(Cancel)).Should().NotContain("mfa_policies", "an empty list is left out, as in the seed");
    }

    [Fact]
    public async Task Restore_PriorStateThatIsNotJson_IsRefused()
    {
        await using var harness = new LocalHarness(Seed, Provider.Ad);

        await harness.Invoking(h => h.Connector.RestoreAsync(Request("disable_user", Provider.Ad, "a1"), "not json", Cancel))
            .Should().ThrowAsync<ConnectorException>().WithMessage("*prior state*");
        await harness.Invoking(h => h.Connector.RestoreAsync(Request("disable_user", Provider.Ad, "a1"), "{}", Cancel))
            .Should().ThrowAsync<ConnectorException>().WithMessage("*'enabled'*");
    }

    [Fact]
    public async Task Open_MissingSample_FailsWithTheReason()
    {
        using var folder = new TempDirectory();
        using var directory = LocalDirectory.Open(Path.Combine(folder.Path, "missing.json"), Path.Combine(folder.Path, "work.json"), new FakeTimeProvider());

        var lookup = directory.Connector(Provider.Ad).ResolveAsync(new Subject(Provider.Ad, null, "alice"), Cancel);

        (await lookup.Invoking(l => l).Should().ThrowAsync<ConnectorException>()).Which.Message.Should().Contain("does not exist");
    }

    [Fact]
    public async Task Read_BrokenWorkingCopy_FailsClosedWithThePosition()
    {
        await using var harness = new LocalHarness(Seed, Provider.Ad);
        await harness.Directory.ReadSnapshotAsync(Cancel);
        await File.WriteAllTextAsync(harness.WorkingCopyPath, """{"users": [{"provider": "ad", "id": "a1", "name": "alice", "enabeld": false}]}""", Cancel);

        var failure = await harness.Invoking(h => h.Connector.ReadAsync(Request("disable_user", Provider.Ad, "a1"), Cancel)).Should().ThrowAsync<ConnectorException>();

        failure.Which.Message.Should().Contain("directory.json:1:").And.Contain("unknown field 'enabeld'");
    }

    [Fact]
    public async Task WorkingCopy_AfterEveryKindOfChange_MatchesTheSchema()
    {
        await using var harness = new LocalHarness(Seed, Provider.Entra);
        var entra = harness.Connector;
        await entra.ApplyAsync(Request("mark_compromised", Provider.Entra, "e2"), Cancel);
        await entra.ApplyAsync(Request("enforce_phishing_resistant_mfa", Provider.Entra, "e2"), Cancel);
        await entra.ApplyAsync(Request("revoke_sessions", Provider.Entra, "e2"), Cancel);
        await entra.ApplyAsync(Request("reset_password", Provider.Entra, "e2"), Cancel);
        await harness.Directory.Connector(Provider.Okta).ApplyAsync(Request("deactivate_user", Provider.Okta, "o1"), Cancel);
        await harness.Directory.Connector(Provider.Ad).ApplyAsync(
            Request("reset_password", Provider.Ad, "a1", ActionParameters.Empty.With("set_random", true)), Cancel);

        SchemaValidator.Validate("directory", await harness.WorkingCopyTextAsync(Cancel)).Should().BeEmpty();
    }

    [Fact]
    public async Task Connectors_OnePerProvider_ShareOneWorkingCopy()
    {
        await using var harness = new LocalHarness(Seed, Provider.Ad);

        var connectors = harness.Directory.Connectors();

        connectors.Keys.Should().BeEquivalentTo(Providers.All);
        connectors.Should().OnlyContain(pair => pair.Value.Provider == pair.Key);
        await connectors[Provider.Okta].ApplyAsync(Request("disable_user", Provider.Okta, "o1"), Cancel);
        await connectors[Provider.Ad].ApplyAsync(Request("disable_user", Provider.Ad, "a1"), Cancel);
        (await harness.Directory.ReadSnapshotAsync(Cancel)).Users.Where(u => u.Id is "o1" or "a1").Should().OnlyContain(u => !u.Enabled);
    }
}
