using ResponseEngine.Execution;
using ResponseEngine.TestKit.Okta;
using static ResponseEngine.Connectors.Okta.Tests.OktaTestData;

namespace ResponseEngine.Connectors.Okta.Tests;

/// <summary>Okta's per-endpoint rate limits on fake time: the connector paces itself, and waits out a 429 until the reset.</summary>
public sealed class OktaRateLimitTests
{
    [Fact]
    public async Task Run_FiftyActionsAtTenRequestsPerMinute_CompleteWithoutA429()
    {
        await using var harness = new OktaHarness();
        harness.Emulator.RateLimitPerMinute = 10;
        for (var i = 0; i < 50; i++) harness.Emulator.AddUser($"00u{i:D2}", $"user{i}@corp.example.com");

        var outcomes = await harness.Clock.RunAsync(async () =>
        {
            var done = new List<bool>();
            for (var i = 0; i < 50; i++)
            {
                var request = Request("disable_user", $"00u{i:D2}");
                var state = await harness.Connector.ReadAsync(request, Cancel);
                if (!state.AlreadyDone) await harness.Connector.ApplyAsync(request, Cancel);
                done.Add(await harness.Connector.VerifyAsync(request, Cancel));
            }

            return done;
        }, TimeSpan.FromHours(2));

        outcomes.Should().HaveCount(50).And.OnlyContain(verified => verified);
        harness.Emulator.Users.Values.Should().OnlyContain(u => u.Status == "SUSPENDED");
        harness.Emulator.Throttled.Should().Be(0, "the connector slows down before a bucket runs dry");
        // 100 user reads at 9 per window (one kept in reserve) need 11 more windows; the 50 suspends share theirs.
        (harness.Clock.GetUtcNow() - OktaHarness.Start).Should().BeGreaterThanOrEqualTo(TimeSpan.FromMinutes(11));
        foreach (var window in harness.Emulator.Requests.GroupBy(r => (OktaEmulator.BucketOf(new HttpMethod(r.Method), new Uri(harness.Emulator.BaseUrl, r.RawPath)),
                     r.At.ToUnixTimeSeconds() / 60)))
        {
            window.Count().Should().BeLessThanOrEqualTo(10);
        }
    }

    [Fact]
    public async Task Apply_After429_WaitsUntilTheResetAndSucceeds()
    {
        await using var harness = new OktaHarness();
        var user = harness.Emulator.AddUser("00u1", "pat@corp.example.com");
        harness.Emulator.FailNext(3, OktaFault.RateLimited, r => r.Method == "POST");

        await harness.Clock.RunAsync(async () =>
        {
            await harness.Connector.ApplyAsync(Request("disable_user", "00u1"), Cancel);
            return true;
        }, TimeSpan.FromMinutes(10));

        user.Status.Should().Be("SUSPENDED");
        harness.Emulator.Throttled.Should().Be(3);
        var posts = harness.Emulator.Requests.Where(r => r.Method == "POST").ToList();
        posts.Should().HaveCount(4);
        (posts[^1].At - posts[0].At).Should().BeGreaterThanOrEqualTo(TimeSpan.FromSeconds(60), "each retry waits for the window's reset");
        harness.OktaConnector.RateLimitWaited.Should().BePositive();
    }

    [Fact]
    public async Task Apply_StillThrottledAfterEveryRetry_IsATransientFailure()
    {
        await using var harness = new OktaHarness(configure: (_, o) => o with { MaxRetries = 2 });
        harness.Emulator.AddUser("00u1", "pat@corp.example.com");
        harness.Emulator.FailNext(3, OktaFault.RateLimited, r => r.Method == "POST");

        var failure = await harness.Clock.RunAsync(async () =>
        {
            try
            {
                await harness.Connector.ApplyAsync(Request("disable_user", "00u1"), Cancel);
                return null;
            }
            catch (ConnectorException e)
            {
                return e;
            }
        }, TimeSpan.FromMinutes(10));

        failure.Should().NotBeNull();
        failure!.Transient.Should().BeTrue();
        failure.Message.Should().Contain("E0000047");
    }

    [Fact]
    public async Task Read_ServerErrorsThenSuccess_RetriesWithBackoffOnTheClock()
    {
        await using var harness = new OktaHarness();
        harness.Emulator.AddUser("00u1", "pat@corp.example.com");
        harness.Emulator.FailNext(2, OktaFault.ServerError);

        var state = await harness.Clock.RunAsync(() => harness.Connector.ReadAsync(Request("disable_user", "00u1"), Cancel), TimeSpan.FromMinutes(1));

        state.AlreadyDone.Should().BeFalse();
        (harness.Clock.GetUtcNow() - OktaHarness.Start).Should().Be(TimeSpan.FromSeconds(3), "1 s then 2 s of backoff");
    }

    [Fact]
    public async Task Read_TimeoutThenSuccess_IsRetried()
    {
        await using var harness = new OktaHarness();
        harness.Emulator.AddUser("00u1", "pat@corp.example.com");
        harness.Emulator.FailNext(1, OktaFault.Timeout);

        var state = await harness.Clock.RunAsync(() => harness.Connector.ReadAsync(Request("disable_user", "00u1"), Cancel), TimeSpan.FromMinutes(1));

        state.PriorState.Should().Contain("ACTIVE");
    }

    [Theory]
    [InlineData(OktaFault.ServerError)]
    [InlineData(OktaFault.Timeout)]
    public async Task Apply_LifecycleCallFailsWithoutAnAnswer_IsNotRepeatedAndIsTransient(OktaFault fault)
    {
        await using var harness = new OktaHarness();
        harness.Emulator.AddUser("00u1", "pat@corp.example.com");
        harness.Emulator.FailNext(1, fault, r => r.Method == "POST");

        var failure = await harness.Invoking(h => h.Connector.ApplyAsync(Request("disable_user", "00u1"), Cancel)).Should().ThrowAsync<ConnectorException>();

        failure.Which.Transient.Should().BeTrue();
        harness.Emulator.Requests.Count(r => r.Method == "POST").Should().Be(1, "a lifecycle POST that may have taken effect is left to the executor's verify");
    }
}
