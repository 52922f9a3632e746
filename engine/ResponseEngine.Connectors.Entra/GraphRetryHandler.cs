using System.Net.Http.Headers;
using Polly;
using Polly.Retry;

namespace ResponseEngine.Connectors.Entra;

/// <summary>
/// Replaces the SDK's retry handler, whose waits run on the wall clock, with Polly's retry on the injected clock: retries
/// 429, 503 and 504 after Retry-After (or a doubling fallback when Graph sends none), and — only for methods safe to
/// repeat — 500s, connection failures and timeouts; paces writes to <see cref="EntraOptions.WritesPerSecond"/> (Graph's write limit) so they are not throttled in
/// the first place, and keeps conditional-access and Identity Protection writes to one per
/// <see cref="EntraOptions.PolicyWriteInterval"/>. Every wait and deadline is on the injected <see cref="TimeProvider"/>.
/// </summary>
internal sealed class GraphRetryHandler : DelegatingHandler
{
    private readonly TimeProvider _time;
    private readonly EntraOptions _options;
    private readonly PolicyWritePacer _pacer;
    private readonly WritePacer? _writes;
    private long _waitedTicks;
    private long _pacedTicks;
    private int _retries;

    public GraphRetryHandler(TimeProvider time, EntraOptions options, PolicyWritePacer pacer)
    {
        _time = time;
        _options = options;
        _pacer = pacer;
        _writes = options.WritesPerSecond > 0 ? new WritePacer(time, options.WritesPerSecond, options.WriteBurst) : null;
    }

    /// <summary>Time spent pacing writes to <see cref="EntraOptions.WritesPerSecond"/>.</summary>
    public TimeSpan Paced => TimeSpan.FromTicks(Interlocked.Read(ref _pacedTicks));

    /// <summary>Whether a call counts against Graph's write limit: anything but GET, except the engine's <c>$batch</c> (it carries GETs only).</summary>
    public static bool IsWrite(HttpMethod method, Uri uri) =>
        method != HttpMethod.Get && !uri.AbsolutePath.EndsWith("/$batch", StringComparison.Ordinal);

    /// <summary>Time spent waiting for Retry-After, backoff and conditional-access pacing (write pacing is <see cref="Paced"/>).</summary>
    public TimeSpan Waited => TimeSpan.FromTicks(Interlocked.Read(ref _waitedTicks));

    public int Retries => Volatile.Read(ref _retries);

    /// <summary>How long to wait before retrying a throttled answer: Retry-After when given, else the doubling fallback.</summary>
    public static TimeSpan RetryDelay(RetryConditionHeaderValue? retryAfter, DateTimeOffset now, TimeSpan fallback, int attempt)
    {
        if (retryAfter?.Delta is { } delta) return delta > TimeSpan.Zero ? delta : TimeSpan.Zero;
        if (retryAfter?.Date is { } date) return date > now ? date - now : TimeSpan.Zero;
        return fallback * Math.Pow(2, Math.Min(attempt, 6));
    }

    public static bool IsPolicyWrite(HttpMethod method, Uri uri) =>
        method != HttpMethod.Get && (uri.AbsolutePath.Contains("/identity/conditionalAccess", StringComparison.OrdinalIgnoreCase)
                                     || uri.AbsolutePath.Contains("/identityProtection/", StringComparison.OrdinalIgnoreCase));

    protected override async Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
    {
        var body = request.Content is null ? null : await request.Content.ReadAsByteArrayAsync(cancellationToken).ConfigureAwait(false);
        // Only the engine's own $batch calls are POSTs that are safe to repeat: they carry GETs only.
        var repeatable = request.Method == HttpMethod.Get || request.Method == HttpMethod.Delete || request.Method == HttpMethod.Patch
                         || request.Method == HttpMethod.Put || request.RequestUri!.AbsolutePath.EndsWith("/$batch", StringComparison.Ordinal);
        var policyWrite = IsPolicyWrite(request.Method, request.RequestUri!);
        var write = _writes is not null && IsWrite(request.Method, request.RequestUri!);
        var attempt = 0;
        var pipeline = Pipeline(repeatable);
        return await pipeline.ExecuteAsync(async token =>
        {
            if (policyWrite) await Wait(await _pacer.ReserveAsync(token).ConfigureAwait(false), token).ConfigureAwait(false);
            if (write)
            {
                var pace = _writes!.Reserve();
                if (pace > TimeSpan.Zero)
                {
                    Interlocked.Add(ref _pacedTicks, pace.Ticks);
                    await Task.Delay(pace, _time, token).ConfigureAwait(false);
                }
            }

            // A request message is sent once: every retry sends a copy (the response keeps a reference to its request).
            var message = attempt++ == 0 ? request : Clone(request, body);
            return await SendOnceAsync(message, token).ConfigureAwait(false);
        }, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>
    /// Polly's retry (delays on the injected clock): 429 and 503 mean Graph did not act and are retried after
    /// Retry-After or the doubling fallback; a 504 may hide a write that happened, so it, other 5xx, dropped connections
    /// and timeouts are retried only for calls safe to repeat (a timeout already waited its deadline; the rest back off).
    /// </summary>
    private ResiliencePipeline<HttpResponseMessage> Pipeline(bool repeatable) =>
        new ResiliencePipelineBuilder<HttpResponseMessage> { TimeProvider = _time }
            .AddRetry(new RetryStrategyOptions<HttpResponseMessage>
            {
                MaxRetryAttempts = Math.Max(1, _options.MaxRetries),
                ShouldHandle = args => ValueTask.FromResult(_options.MaxRetries > 0 && args.Outcome switch
                {
                    { Exception: HttpRequestException or TimeoutException } => repeatable && !args.Context.CancellationToken.IsCancellationRequested,
                    { Result: { } response } => (int)response.StatusCode is 429 or 503 || ((int)response.StatusCode >= 500 && repeatable),
                    _ => false,
                }),
                DelayGenerator = args => ValueTask.FromResult<TimeSpan?>(args.Outcome switch
                {
                    { Exception: TimeoutException } => TimeSpan.Zero,
                    { Result: { } response } when (int)response.StatusCode is 429 or 503 || ((int)response.StatusCode == 504 && repeatable) =>
                        RetryDelay(response.Headers.RetryAfter, _time.GetUtcNow(), _options.ThrottleFallback, args.AttemptNumber),
                    _ => Backoff(args.AttemptNumber),
                }),
                OnRetry = args =>
                {
                    Interlocked.Increment(ref _retries);
                    if (args.RetryDelay > TimeSpan.Zero) Interlocked.Add(ref _waitedTicks, args.RetryDelay.Ticks);
                    return ValueTask.CompletedTask;
                },
            })
            .Build();

    private async Task<HttpResponseMessage> SendOnceAsync(HttpRequestMessage request, CancellationToken cancellationToken)
    {
        if (_options.RequestTimeout is not { } timeout) return await base.SendAsync(request, cancellationToken).ConfigureAwait(false);
        using var deadline = new CancellationTokenSource(timeout, _time);
        using var linked = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, deadline.Token);
        try
        {
            return await base.SendAsync(request, linked.Token).ConfigureAwait(false);
        }
        catch (OperationCanceledException e) when (deadline.IsCancellationRequested && !cancellationToken.IsCancellationRequested)
        {
            throw new TimeoutException($"Graph did not answer {request.Method} {request.RequestUri?.AbsolutePath} within {timeout.TotalSeconds:0.#} s", e);
        }
    }

    private async Task Wait(TimeSpan delay, CancellationToken cancellationToken)
    {
        if (delay <= TimeSpan.Zero) return;
        Interlocked.Add(ref _waitedTicks, delay.Ticks);
        await Task.Delay(delay, _time, cancellationToken).ConfigureAwait(false);
    }

    private static TimeSpan Backoff(int attempt) => TimeSpan.FromSeconds(Math.Pow(2, Math.Min(attempt, 5)));

    private static HttpRequestMessage Clone(HttpRequestMessage request, byte[]? body)
    {
        var clone = new HttpRequestMessage(request.Method, request.RequestUri) { Version = request.Version, VersionPolicy = request.VersionPolicy };
        foreach (var header in request.Headers) clone.Headers.TryAddWithoutValidation(header.Key, header.Value);
        foreach (var option in request.Options) ((IDictionary<string, object?>)clone.Options)[option.Key] = option.Value;
        if (body is not null)
        {
            clone.Content = new ByteArrayContent(body);
            foreach (var header in request.Content!.Headers) clone.Content.Headers.TryAddWithoutValidation(header.Key, header.Value);
        }

        return clone;
    }
}

/// <summary>
/// One conditional-access or Identity Protection write per interval to a tenant, from this process: each write reserves
/// the next free slot, so concurrent writers queue instead of all being throttled.
/// </summary>
public sealed class PolicyWritePacer(TimeProvider time, TimeSpan interval)
{
    private readonly Lock _lock = new();
    private DateTimeOffset _next = DateTimeOffset.MinValue;

    /// <summary>Reserves the next slot; returns how long to wait for it.</summary>
    public Task<TimeSpan> ReserveAsync(CancellationToken cancellationToken)
    {
        cancellationToken.ThrowIfCancellationRequested();
        lock (_lock)
        {
            var now = time.GetUtcNow();
            var slot = _next > now ? _next : now;
            _next = slot + interval;
            return Task.FromResult(slot - now);
        }
    }
}

/// <summary>
/// Keeps writes to a rate: a token bucket of <c>burst</c> writes refilled at <c>perSecond</c>, on the injected clock.
/// Each write reserves the next token, waiting for it when the bucket is empty, so concurrent writers queue in order
/// instead of all being throttled. Per connector (one per tenant in a process); other processes writing with the same app
/// share Graph's limit, and their excess still comes back as 429s, which are waited out.
/// </summary>
public sealed class WritePacer
{
    private readonly Lock _lock = new();
    private readonly TimeProvider _time;
    private readonly double _perSecond;
    private readonly double _burst;
    private double _tokens;
    private DateTimeOffset _at;

    public WritePacer(TimeProvider time, double perSecond, int burst)
    {
        ArgumentNullException.ThrowIfNull(time);
        if (!(perSecond > 0) || double.IsInfinity(perSecond)) throw new ArgumentOutOfRangeException(nameof(perSecond), perSecond, "must be a positive rate");
        ArgumentOutOfRangeException.ThrowIfLessThan(burst, 1);
        _time = time;
        _perSecond = perSecond;
        _burst = burst;
        _tokens = burst;
        _at = time.GetUtcNow();
    }

    /// <summary>Reserves the next write; returns how long to wait before sending it (zero when a token is free now).</summary>
    public TimeSpan Reserve()
    {
        lock (_lock)
        {
            var now = _time.GetUtcNow();
            if (now > _at)
            {
                _tokens = Math.Min(_burst, _tokens + ((now - _at).TotalSeconds * _perSecond));
                _at = now;
            }

            _tokens -= 1;
            return _tokens >= 0 ? TimeSpan.Zero : TimeSpan.FromSeconds(-_tokens / _perSecond);
        }
    }
}
