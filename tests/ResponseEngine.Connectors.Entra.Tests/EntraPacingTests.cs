using Microsoft.Extensions.Time.Testing;
using ResponseEngine.TestKit.Graph;
using static ResponseEngine.Connectors.Entra.Tests.EntraTestData;

namespace ResponseEngine.Connectors.Entra.Tests;

/// <summary>
/// Writes paced to Graph's write limit (connectors.entra.writes_per_second) on the injected clock, so the connector keeps
/// to the limit instead of running into 429s and waiting them out.
/// </summary>
public sealed class EntraPacingTests
{
    [Fact]
    public void WritePacer_BurstGoesAtOnceThenOneWriteEveryIntervalAndIdleTimeRefillsUpToTheBurst()
    {
        var time = new FakeTimeProvider(EntraHarness.Start);
        var pacer = new WritePacer(time, perSecond: 20, burst: 3);

        Enumerable.Range(0, 3).Select(_ => pacer.Reserve()).Should().OnlyContain(w => w == TimeSpan.Zero, "the burst goes at once");
        Enumerable.Range(0, 4).Select(_ => pacer.Reserve()).Should().Equal(
            [TimeSpan.FromMilliseconds(50), TimeSpan.FromMilliseconds(100), TimeSpan.FromMilliseconds(150), TimeSpan.FromMilliseconds(200)],
            "writes reserved at once queue one interval (1/20 s) apart");

        time.Advance(TimeSpan.FromMilliseconds(200));
        pacer.Reserve().Should().Be(TimeSpan.FromMilliseconds(50), "the queue has been served; the next slot is one interval on");

        time.Advance(TimeSpan.FromSeconds(10));
        Enumerable.Range(0, 4).Select(_ => pacer.Reserve()).Should().Equal(TimeSpan.Zero, TimeSpan.Zero, TimeSpan.Zero, TimeSpan.FromMilliseconds(50));
    }

    [Fact]
    public void WritePacer_ManyWritersAtOnce_NeverMoreThanTheRateOverAnyWindow()
    {
        var time = new FakeTimeProvider(EntraHarness.Start);
        var pacer = new WritePacer(time, perSecond: 20, burst: 20);

        var waits = new System.Collections.Concurrent.ConcurrentBag<TimeSpan>();
        Parallel.For(0, 200, _ => waits.Add(pacer.Reserve()));

        var sends = waits.Order().ToList();
        sends.Distinct().Should().HaveCount(181, "20 go at once, every other write gets a slot of its own");
        sends[^1].Should().Be(TimeSpan.FromSeconds(9), "180 writes after the burst at 20 per second");
        for (var i = 20; i < sends.Count; i++) sends[i].Should().Be(TimeSpan.FromMilliseconds(50 * (i - 19)));
    }

    [Fact]
    public async Task Paced_AtGraphsRate_DisablesEveryUserWithoutOne429()
    {
        var (accepted, throttled, paced, clock) = await DisableUsersAsync(writesPerSecond: 20);

        accepted.Should().Be(60);
        throttled.Should().Be(0, "writes kept to the emulator's 20 writes/s are never throttled");
        paced.Should().BeGreaterThanOrEqualTo(TimeSpan.FromSeconds(2), "55 writes beyond the burst of 5 at 20/s wait 2.75 s in all at least");
        clock.Should().BeGreaterThanOrEqualTo(TimeSpan.FromSeconds(55 / 20.0 - 0.001), "the clock the pacer waited on is the injected one");
    }

    [Fact]
    public async Task Unpaced_SameWrites_RunIntoTheLimitAndWaitOut429s()
    {
        var (accepted, throttled, paced, _) = await DisableUsersAsync(writesPerSecond: 0);

        accepted.Should().Be(60, "429s are still waited out without pacing");
        throttled.Should().BeGreaterThan(0, "without pacing the same writes exceed the emulator's bucket");
        paced.Should().Be(TimeSpan.Zero);
    }

    /// <summary>60 users disabled one after the other (one PATCH each) against a bucket of 5 writes refilled at 20/s.</summary>
    private static async Task<(int Accepted, int Throttled, TimeSpan Paced, TimeSpan Clock)> DisableUsersAsync(double writesPerSecond)
    {
        await using var h = await EntraHarness.StartAsync(configure: o => o with { WritesPerSecond = writesPerSecond, WriteBurst = 5 }, cancellationToken: Cancel);
        h.Emulator.WriteLimit = new GraphLimit(5, TimeSpan.FromSeconds(0.25));
        var users = Enumerable.Range(1, 60).Select(i => h.Emulator.AddUser($"u-{i}", $"user{i}@corp.example.com")).ToList();

        foreach (var user in users) (await ActAsync(h.Connector, Request("disable_user", user, null))).Should().BeTrue();

        users.Should().OnlyContain(u => !u.AccountEnabled);
        var writes = h.Emulator.Requests.Where(r => r.IsWrite && r.Path.StartsWith("/users/", StringComparison.Ordinal)).ToList();
        return (writes.Count(r => r.Status is >= 200 and < 300), writes.Count(r => r.Status == 429), h.EntraConnector.WritesPaced, h.Clock.Advanced);
    }
}
