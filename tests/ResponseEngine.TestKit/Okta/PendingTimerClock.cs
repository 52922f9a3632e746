using Microsoft.Extensions.Time.Testing;

namespace ResponseEngine.TestKit.Okta;

/// <summary>
/// A fake clock that knows which of its timers are still pending, so a test can advance time exactly when the code
/// under test is waiting on it (Task.Delay(…, clock)) and never sleeps.
/// </summary>
public sealed class PendingTimerClock : TimeProvider
{
    private readonly Lock _lock = new();
    private readonly List<TrackedTimer> _timers = [];

    public PendingTimerClock(DateTimeOffset start)
    {
        Fake = new FakeTimeProvider(start);
    }

    public FakeTimeProvider Fake { get; }

    public override DateTimeOffset GetUtcNow() => Fake.GetUtcNow();

    public override long GetTimestamp() => Fake.GetTimestamp();

    public override long TimestampFrequency => Fake.TimestampFrequency;

    public override TimeZoneInfo LocalTimeZone => Fake.LocalTimeZone;

    /// <summary>The earliest moment a pending timer fires; null when nothing waits on the clock.</summary>
    public DateTimeOffset? NextDue
    {
        get
        {
            lock (_lock)
            {
                return _timers.Count == 0 ? null : _timers.Min(t => t.Due);
            }
        }
    }

    public void Advance(TimeSpan by) => Fake.Advance(by);

    public override ITimer CreateTimer(TimerCallback callback, object? state, TimeSpan dueTime, TimeSpan period)
    {
        var tracked = new TrackedTimer(this);
        tracked.Inner = Fake.CreateTimer(s =>
        {
            if (period == Timeout.InfiniteTimeSpan) tracked.Forget();
            callback(s);
        }, state, Timeout.InfiniteTimeSpan, Timeout.InfiniteTimeSpan);
        tracked.Change(dueTime, period);
        return tracked;
    }

    /// <summary>
    /// Runs <paramref name="work"/>, advancing the clock to the next pending timer whenever the work waits on it, until
    /// the work completes or <paramref name="limit"/> of fake time has passed. Never sleeps.
    /// </summary>
    public async Task<T> RunAsync<T>(Func<Task<T>> work, TimeSpan limit)
    {
        ArgumentNullException.ThrowIfNull(work);
        var deadline = GetUtcNow() + limit;
        var task = work();
        while (!task.IsCompleted)
        {
            if (NextDue is { } due)
            {
                if (due > deadline) throw new TimeoutException($"the work still waits at {due:O}, past the {limit} allowed");
                var step = due - GetUtcNow();
                Advance(step > TimeSpan.Zero ? step : TimeSpan.Zero);
            }

            await Task.Yield();
        }

        return await task;
    }

    private sealed class TrackedTimer(PendingTimerClock clock) : ITimer
    {
        public ITimer Inner { get; set; } = null!;

        public DateTimeOffset Due { get; private set; }

        public bool Change(TimeSpan dueTime, TimeSpan period)
        {
            lock (clock._lock)
            {
                clock._timers.Remove(this);
                if (dueTime != Timeout.InfiniteTimeSpan)
                {
                    Due = clock.GetUtcNow() + dueTime;
                    clock._timers.Add(this);
                }
            }

            return Inner.Change(dueTime, period);
        }

        public void Forget()
        {
            lock (clock._lock) clock._timers.Remove(this);
        }

        public void Dispose()
        {
            Forget();
            Inner.Dispose();
        }

        public ValueTask DisposeAsync()
        {
            Dispose();
            return ValueTask.CompletedTask;
        }
    }
}
