using System.Globalization;
using System.Net.Http.Headers;

namespace ResponseEngine.Connectors.Okta;

/// <summary>
/// Keeps each Okta rate-limit bucket from running dry: reads X-Rate-Limit-Limit / Remaining / Reset from every answer
/// and, when a bucket is down to its reserve, waits on the injected clock until the window resets.
/// </summary>
internal sealed class OktaRateGate
{
    private readonly Dictionary<string, Window> _windows = new(StringComparer.Ordinal);
    private readonly TimeProvider _time;
    private readonly int _reserve;
    private readonly TimeSpan _skew;
    private readonly Lock _lock = new();

    public OktaRateGate(TimeProvider time, int reserve, TimeSpan skew)
    {
        _time = time;
        _reserve = reserve;
        _skew = skew;
    }

    /// <summary>Total time spent waiting for windows to reset, for diagnostics and tests.</summary>
    public TimeSpan Waited { get; private set; }

    /// <summary>Waits until a request to <paramref name="bucket"/> may be sent without exhausting it, then takes one.</summary>
    public async Task WaitTurnAsync(string bucket, CancellationToken cancellationToken)
    {
        while (true)
        {
            TimeSpan wait;
            lock (_lock)
            {
                var now = _time.GetUtcNow();
                if (!_windows.TryGetValue(bucket, out var window) || now >= window.Reset + _skew)
                {
                    _windows.Remove(bucket);
                    return;
                }

                if (window.Remaining > _reserve)
                {
                    _windows[bucket] = window with { Remaining = window.Remaining - 1 };
                    return;
                }

                wait = window.Reset + _skew - now;
                Waited += wait;
            }

            await Task.Delay(wait, _time, cancellationToken).ConfigureAwait(false);
        }
    }

    /// <summary>Records what Okta said about the bucket; answers without the headers leave it unknown.</summary>
    public void Observe(string bucket, HttpResponseHeaders headers)
    {
        if (!TryInt(headers, "X-Rate-Limit-Limit", out var limit) || !TryInt(headers, "X-Rate-Limit-Remaining", out var remaining)
            || !TryInt(headers, "X-Rate-Limit-Reset", out var reset))
        {
            return;
        }

        lock (_lock)
        {
            _windows[bucket] = new Window(limit, remaining, DateTimeOffset.FromUnixTimeSeconds(reset));
        }
    }

    /// <summary>A 429 empties the bucket until its reset, whatever was counted before.</summary>
    public void Exhausted(string bucket, HttpResponseHeaders headers, TimeSpan fallback)
    {
        lock (_lock)
        {
            var reset = TryInt(headers, "X-Rate-Limit-Reset", out var epoch)
                ? DateTimeOffset.FromUnixTimeSeconds(epoch)
                : _time.GetUtcNow() + fallback;
            var limit = TryInt(headers, "X-Rate-Limit-Limit", out var l) ? l : 0;
            _windows[bucket] = new Window(limit, 0, reset);
        }
    }

    /// <summary>The bucket of a request: method and path with ids replaced, as Okta counts per endpoint.</summary>
    public static string BucketOf(HttpMethod method, Uri uri)
    {
        var segments = uri.AbsolutePath.Split('/');
        for (var i = 1; i < segments.Length; i++)
        {
            if (i >= 4 && segments[i - 1] is "users" or "groups" or "rules" or "roles" && segments[i].Length > 0 && !IsWord(segments[i]))
            {
                segments[i] = "{id}";
            }
        }

        return method.Method + " " + string.Join('/', segments);
    }

    // Sub-resources that follow a collection and are not ids: /groups/rules, /users/{id}/groups …
    private static bool IsWord(string segment) => segment is "rules" or "lifecycle" or "groups" or "users" or "roles" or "sessions";

    private static bool TryInt(HttpResponseHeaders headers, string name, out long value)
    {
        value = 0;
        return headers.TryGetValues(name, out var values)
            && long.TryParse(values.FirstOrDefault(), NumberStyles.Integer, CultureInfo.InvariantCulture, out value);
    }

    private sealed record Window(long Limit, long Remaining, DateTimeOffset Reset);
}
