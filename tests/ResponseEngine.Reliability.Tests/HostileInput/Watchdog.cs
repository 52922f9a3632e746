using System.Diagnostics;

namespace ResponseEngine.Reliability.Tests.HostileInput;

/// <summary>
/// Runs a batch of generated inputs on another thread with a wall-clock limit, remembering the input in hand: a hang
/// fails the test naming that input instead of stalling the run. Also flags any single input slower than a bound.
/// </summary>
public sealed class Watchdog
{
    private readonly Lock _lock = new();
    private string _current = "(none yet)";
    private long _started;

    public int Inputs { get; private set; }

    public TimeSpan Slowest { get; private set; }

    public string SlowestInput { get; private set; } = "";

    /// <summary>Call at the start of each input.</summary>
    public void Begin(string input)
    {
        lock (_lock)
        {
            _current = input;
            _started = Stopwatch.GetTimestamp();
            Inputs++;
        }
    }

    /// <summary>Call when the input is done.</summary>
    public void End()
    {
        lock (_lock)
        {
            var elapsed = Stopwatch.GetElapsedTime(_started);
            if (elapsed > Slowest)
            {
                Slowest = elapsed;
                SlowestInput = _current;
            }
        }
    }

    public static async Task<Watchdog> RunAsync(Action<Watchdog> work, TimeSpan limit)
    {
        var watchdog = new Watchdog();
        var task = Task.Factory.StartNew(() => work(watchdog), CancellationToken.None, TaskCreationOptions.LongRunning, TaskScheduler.Default);
        try
        {
            await task.WaitAsync(limit);
        }
        catch (TimeoutException)
        {
            string current;
            lock (watchdog._lock) current = watchdog._current;
            throw new TimeoutException($"no answer within {limit} after {watchdog.Inputs} inputs; stuck on: {Shorten(current)}");
        }

        return watchdog;
    }

    public static string Shorten(string text) => text.Length <= 600 ? text : text[..300] + $" …({text.Length} chars)… " + text[^200..];
}
