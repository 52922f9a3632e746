using System.Net.Http.Headers;
using System.Text.Json.Nodes;
using ResponseEngine.Execution;
using ResponseEngine.Findings;
using ResponseEngine.TestKit.Graph;
using static ResponseEngine.Connectors.Entra.Tests.EntraTestData;

namespace ResponseEngine.Connectors.Entra.Tests;

/// <summary>Throttling and faults on fake time: Retry-After honoured, per-item 429s in batches retried, nothing done twice.</summary>
public sealed class EntraThrottlingTests
{
    [Fact]
    public async Task Storm_HalfOfAllCallsThrottled_EveryActionCompletesExactlyOnceAfterRetryAfter()
    {
        await using var h = await EntraHarness.StartAsync(cancellationToken: Cancel);
        var users = Enumerable.Range(1, 4).Select(i => h.Emulator.AddUser($"u-{i}", $"user{i}@corp.example.com")).ToList();
        var group = h.Emulator.AddGroup("g-admins", "Tier0 Admins");
        foreach (var user in users)
        {
            group.Members.Add(user.Id);
            h.Emulator.AssignRole(user.Id, "Global Administrator");
            user.LastSignInDateTime = EntraHarness.Start.AddHours(-1);
        }

        h.Emulator.FaultRetryAfter = TimeSpan.FromSeconds(3);
        h.Emulator.StartThrottleStorm(every: 2);
        var actions = new (string Action, Actions.ActionParameters? Parameters)[]
        {
            ("disable_user", null), ("reset_password", null), ("revoke_sessions", null), ("mark_compromised", null), ("enforce_mfa", null),
            ("enforce_phishing_resistant_mfa", null), ("revoke_group", Groups("Tier0 Admins")), ("remove_role_assignment", Roles("Global Administrator")),
        };

        var verified = new List<bool>();
        foreach (var user in users)
        {
            var lookup = await h.Connector.ResolveAsync(new Subject(Provider.Entra, null, user.UserPrincipalName), Cancel);
            lookup.Problem.Should().BeNull();
            foreach (var (action, parameters) in actions) verified.Add(await ActAsync(h.Connector, Request(action, user, parameters)));
        }

        verified.Should().HaveCount(32).And.OnlyContain(v => v);
        var log = h.Emulator.Requests;
        var calls = log.Where(r => r.Path != "/$batch").ToList();
        log.Count(r => r.Status == 429).Should().Be(calls.Count / 2, "every second call, batch items included, was answered 429");

        // Exactly once: every write that Graph accepted happened once per user and action.
        var accepted = log.Where(r => r.IsWrite && r.Status is >= 200 and < 300 && !r.RawPath.EndsWith("/$batch", StringComparison.Ordinal)).ToList();
        foreach (var user in users)
        {
            accepted.Count(r => r.Method == "PATCH" && r.Path == $"/users/{user.Id}").Should().Be(2, "disable and reset_password, once each");
            accepted.Count(r => r.Path == $"/users/{user.Id}/revokeSignInSessions").Should().Be(1);
            accepted.Count(r => r.Path == $"/groups/g-admins/members/{user.Id}/$ref").Should().Be(1);
            user.AccountEnabled.Should().BeFalse();
            user.ForceChangePasswordNextSignIn.Should().BeTrue();
            h.Emulator.Tenant.RiskyUsers[user.Id].RiskState.Should().Be("confirmedCompromised");
        }

        accepted.Count(r => r.Path == "/identityProtection/riskyUsers/confirmCompromised").Should().Be(4);
        accepted.Count(r => r.Method == "POST" && r.Path == "/identity/conditionalAccess/policies").Should().Be(2, "one policy per kind, created once");
        accepted.Count(r => r.Method == "DELETE" && r.Path.StartsWith("/roleManagement/directory/roleAssignments/", StringComparison.Ordinal)).Should().Be(4);
        h.Emulator.Tenant.ConditionalAccessPolicies.Values.Should().HaveCount(2).And.OnlyContain(p => p["conditions"]!["users"]!["includeUsers"]!.AsArray().Count == 4);
        h.Emulator.Tenant.RoleAssignments.Should().BeEmpty();
        group.Members.Should().BeEmpty();

        // Retry-After honoured: the next attempt of a throttled call comes no sooner than it said.
        foreach (var throttled in log.Where(r => r.Status == 429))
        {
            var retry = log.FirstOrDefault(r => r.Sequence > throttled.Sequence && r.Method == throttled.Method && r.RawPath == throttled.RawPath
                                                && r.Query == throttled.Query && r.InBatch == throttled.InBatch && r.Body == throttled.Body);
            retry.Should().NotBeNull($"call {throttled.Sequence} ({throttled.Method} {throttled.Path}) was retried");
            (retry!.At - throttled.At).Should().BeGreaterThanOrEqualTo(TimeSpan.FromSeconds(3), $"Retry-After of call {throttled.Sequence} ({throttled.Method} {throttled.Path})");
        }

        log.Should().Contain(r => r.InBatch && r.Status == 429, "per-item 429s inside $batch were part of the storm");
        h.EntraConnector.Retries.Should().BeGreaterThan(0);
        h.Clock.Advanced.Should().BeGreaterThan(TimeSpan.FromSeconds(3) * (log.Count(r => r.Status == 429) / 10), "waiting happened on the fake clock");
    }

    [Fact]
    public async Task Batch_ItemsThrottledInsideA200_AreSentAgainAfterTheirRetryAfter()
    {
        await using var h = await EntraHarness.StartAsync(cancellationToken: Cancel);
        h.Emulator.AddUser("u-1", "pat@corp.example.com");
        h.Emulator.FaultRetryAfter = TimeSpan.FromSeconds(7);
        h.Emulator.FailNext(2, GraphFault.Throttled, r => r.InBatch);

        var lookup = await h.ResolveAsync("pat@corp.example.com");

        lookup.Identity.Should().NotBeNull();
        var batches = h.Emulator.Requests.Where(r => r.Path == "/$batch").ToList();
        batches.Should().HaveCount(2, "the throttled items go in a second batch");
        batches.Should().OnlyContain(b => b.Status == 200);
        (batches[1].At - batches[0].At).Should().Be(TimeSpan.FromSeconds(7));
        h.Emulator.Requests.Count(r => r.InBatch && r.Status == 429).Should().Be(2);
    }

    [Fact]
    public async Task Throttled_WithoutRetryAfter_WaitsTheFallbackAndSucceeds()
    {
        await using var h = await EntraHarness.StartAsync(cancellationToken: Cancel);
        var user = h.Emulator.AddUser("u-1", "pat@corp.example.com");
        h.Emulator.FailNext(2, GraphFault.ThrottledWithoutRetryAfter, r => r.Method == "POST" && r.Path.StartsWith("/identity/", StringComparison.Ordinal));

        (await ActAsync(h.Connector, Request("enforce_mfa", user))).Should().BeTrue();

        var posts = h.Emulator.Requests.Where(r => r.Method == "POST" && r.Path == "/identity/conditionalAccess/policies").ToList();
        posts.Select(p => p.Status).Should().Equal(429, 429, 201);
        (posts[1].At - posts[0].At).Should().BeGreaterThanOrEqualTo(TimeSpan.FromSeconds(2));
        (posts[2].At - posts[1].At).Should().BeGreaterThanOrEqualTo(TimeSpan.FromSeconds(4), "the fallback doubles");
        h.Emulator.Tenant.ConditionalAccessPolicies.Should().ContainSingle();
    }

    [Fact]
    public async Task StillThrottledAfterEveryRetry_IsATransientFailure()
    {
        await using var h = await EntraHarness.StartAsync(configure: o => o with { MaxRetries = 2 }, cancellationToken: Cancel);
        var user = h.Emulator.AddUser("u-1", "pat@corp.example.com");
        h.Emulator.FailNext(3, GraphFault.Throttled, r => r.Method == "PATCH");

        var failure = await h.Invoking(x => x.Connector.ApplyAsync(Request("disable_user", user), Cancel)).Should().ThrowAsync<ConnectorException>();

        failure.Which.Transient.Should().BeTrue();
        failure.Which.Message.Should().Contain("429").And.Contain("TooManyRequests");
        user.AccountEnabled.Should().BeTrue();
    }

    [Theory]
    [InlineData(GraphFault.ServerError)]
    [InlineData(GraphFault.ServiceUnavailable)]
    [InlineData(GraphFault.GatewayTimeout)]
    [InlineData(GraphFault.ConnectionReset)]
    public async Task Read_FaultThenSuccess_IsRetried(GraphFault fault)
    {
        await using var h = await EntraHarness.StartAsync(cancellationToken: Cancel);
        var user = h.Emulator.AddUser("u-1", "pat@corp.example.com");
        h.Emulator.FailNext(1, fault, r => r.Method == "GET");

        var state = await h.Connector.ReadAsync(Request("disable_user", user), Cancel);

        state.AlreadyDone.Should().BeFalse();
        h.Emulator.Requests.Count(r => r.Method == "GET" && r.Path == "/users/u-1").Should().Be(2);
    }

    [Theory]
    [InlineData(GraphFault.ServerError)]
    [InlineData(GraphFault.ConnectionReset)]
    [InlineData(GraphFault.GatewayTimeout)]
    public async Task Post_FaultThatMayHaveTakenEffect_IsNotRepeatedAndIsTransient(GraphFault fault)
    {
        await using var h = await EntraHarness.StartAsync(cancellationToken: Cancel);
        var user = h.Emulator.AddUser("u-1", "pat@corp.example.com");
        h.Emulator.FailNext(1, fault, r => r.Method == "POST" && r.Path.EndsWith("/revokeSignInSessions", StringComparison.Ordinal));

        var failure = await h.Invoking(x => x.Connector.ApplyAsync(Request("revoke_sessions", user), Cancel)).Should().ThrowAsync<ConnectorException>();

        failure.Which.Transient.Should().BeTrue();
        h.Emulator.Requests.Count(r => r.Path.EndsWith("/revokeSignInSessions", StringComparison.Ordinal)).Should().Be(1, "the executor's verify decides, not a blind repeat");
    }

    [Fact]
    public async Task Forbidden_IsPermanentAndSaysWhichPermission()
    {
        await using var h = await EntraHarness.StartAsync(cancellationToken: Cancel);
        var user = h.Emulator.AddUser("u-1", "pat@corp.example.com");
        h.Emulator.FailNext(1, GraphFault.Forbidden, r => r.Method == "PATCH");

        var failure = await h.Invoking(x => x.Connector.ApplyAsync(Request("disable_user", user), Cancel)).Should().ThrowAsync<ConnectorException>();

        failure.Which.Transient.Should().BeFalse();
        failure.Which.Message.Should().Contain("Authorization_RequestDenied").And.Contain("respond permissions");
    }

    [Fact]
    public async Task Timeout_OnARead_IsRetriedAfterTheDeadlineOnTheClock()
    {
        await using var h = await EntraHarness.StartAsync(configure: o => o with { RequestTimeout = TimeSpan.FromSeconds(30) }, cancellationToken: Cancel);
        var user = h.Emulator.AddUser("u-1", "pat@corp.example.com");
        h.Emulator.FailNext(1, GraphFault.Timeout, r => r.Method == "GET");

        // Driven by hand: the clock moves only once the emulator holds the hanging call, so the retry's own deadline never fires.
        var read = h.EntraConnector.ReadAsync(Request("disable_user", user), Cancel);
        await h.Emulator.WaitForRequestAsync(r => r.Status == 0, Cancel);
        h.Clock.Advance(TimeSpan.FromSeconds(30));
        var state = await read;
        var retried = h.Emulator.Requests.Single(r => r.Sequence == 2);

        state.AlreadyDone.Should().BeFalse();
        retried.Status.Should().Be(200);
    }

    [Fact]
    public async Task Emulator_ConfiguredWriteLimit_ThrottlesWithRetryAfterFromTheBucket()
    {
        await using var h = await EntraHarness.StartAsync(cancellationToken: Cancel);
        h.Emulator.WriteLimit = new GraphLimit(2, TimeSpan.FromSeconds(10));
        var users = Enumerable.Range(1, 5).Select(i => h.Emulator.AddUser($"u-{i}", $"user{i}@corp.example.com")).ToList();

        foreach (var user in users) (await ActAsync(h.Connector, Request("disable_user", user))).Should().BeTrue();

        users.Should().OnlyContain(u => !u.AccountEnabled);
        var throttled = h.Emulator.Requests.Where(r => r.Status == 429).ToList();
        throttled.Should().NotBeEmpty().And.OnlyContain(r => r.RetryAfter == TimeSpan.FromSeconds(5), "one token every 5 s");
        h.Emulator.Requests.Count(r => r.Method == "PATCH" && r.Status == 204).Should().Be(5);
    }
}
