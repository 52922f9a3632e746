using Microsoft.Extensions.Time.Testing;

namespace ResponseEngine.TestKit;

/// <summary>
/// A fake clock for code that mixes real I/O (HTTP to the loopback Graph and Okta emulators) with waits on the clock (Retry-After, pacing,
/// timeouts): <see cref="RunAsync{T}"/> advances time to the next pending timer whenever the work is waiting on one, and
/// otherwise awaits the work or the next timer being created — it never sleeps and never spins.
/// </summary>
public sealed class DrivenClock : TimeProvider
{
    private readonly Lock _lock = new();
    private readonly List<Tracked> _timers = [];
    private TaskCompletionSource _changed = new(TaskCreationOptions.RunContinuationsAsynchronously);

    public DrivenClock(DateTimeOffset start)
    {
        Fake = new FakeTimeProvider(start);
    }

    public FakeTimeProvider Fake { get; }

    /// <summary>Fake time that passed while driving work: the sum of every advance.</summary>
    public TimeSpan Advanced { get; private set; }

    public override DateTimeOffset GetUtcNow() => Fake.GetUtcNow();

    public override long GetTimestamp() => Fake.GetTimestamp();

    public override long TimestampFrequency => Fake.TimestampFrequency;

    public override TimeZoneInfo LocalTimeZone => Fake.LocalTimeZone;

    /// <summary>The earliest moment a pending timer fires; null when nothing waits on the clock.</summary>
    public DateTimeOffset? NextDue
    {
        get
        {
            lock (_lock) return _timers.Count == 0 ? null : _timers.Min(t => t.Due);
        }
    }

    public void Advance(TimeSpan by)
    {
        Advanced += by;
        Fake.Advance(by);
    }

    public override ITimer CreateTimer(TimerCallback callback, object? state, TimeSpan dueTime, TimeSpan period)
    {
        var tracked = new Tracked(this);
        tracked.Inner = Fake.CreateTimer(s =>
        {
            if (period == Timeout.InfiniteTimeSpan) tracked.Forget();
            callback(s);
        }, state, Timeout.InfiniteTimeSpan, Timeout.InfiniteTimeSpan);
        tracked.Change(dueTime, period);
        return tracked;
    }

    /// <summary>Runs <paramref name="work"/> to completion on fake time; fails when it still waits after <paramref name="limit"/> of fake time.</summary>
    public async Task<T> RunAsync<T>(Func<Task<T>> work, TimeSpan limit)
    {
        ArgumentNullException.ThrowIfNull(work);
        var deadline = GetUtcNow() + limit;
        var task = Task.Run(work);
        while (!task.IsCompleted)
        {
            Task changed;
            lock (_lock) changed = _changed.Task;
            if (NextDue is { } due)
            {
                if (due > deadline) throw new TimeoutException($"the work still waits at {due:O}, past the {limit} of fake time allowed");
                var step = due - GetUtcNow();
                Advance(step > TimeSpan.Zero ? step : TimeSpan.Zero);

                // Let the continuations of the timer that fired run before looking again.
                await Task.Yield();
                continue;
            }

            await Task.WhenAny(task, changed).ConfigureAwait(false);
        }

        return await task.ConfigureAwait(false);
    }

    /// <summary>Runs work that returns nothing.</summary>
    public Task RunAsync(Func<Task> work, TimeSpan limit)
    {
        ArgumentNullException.ThrowIfNull(work);
        return RunAsync(async () =>
        {
            await work().ConfigureAwait(false);
            return true;
        }, limit);
    }

    private void Signal()
    {
        TaskCompletionSource old;
        lock (_lock)
        {
            old = _changed;
            _changed = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        }

        old.TrySetResult();
    }

    private sealed class Tracked(DrivenClock clock) : ITimer
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

            var changed = Inner.Change(dueTime, period);
            clock.Signal();
            return changed;
        }

        public void Forget()
        {
            lock (clock._lock) clock._timers.Remove(this);
        }

        public void Dispose()
        {
            Forget();
            Inner.Dispose();
            clock.Signal();
        }

        public ValueTask DisposeAsync()
        {
            Dispose();
            return ValueTask.CompletedTask;
        }
    }
}
