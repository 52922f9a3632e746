using System.Collections.Immutable;
using System.Diagnostics.Metrics;
using System.Globalization;
using System.Net.Http.Headers;
using System.Text;
using System.Threading.Channels;
using Microsoft.Extensions.Http.Resilience;
using Polly;
using Polly.Retry;
using ResponseEngine.Configuration;
using ResponseEngine.Execution;
using ResponseEngine.Notifications;
using ResponseEngine.Service.Webhook;

namespace ResponseEngine.Service.Notifications;

/// <summary>
/// Delivers notifications to the configured receivers without ever holding up the engine: <see cref="Publish"/> only
/// writes to a bounded queue per receiver (full: the notification is dropped, counted and logged); a worker per receiver
/// posts them one after another with retries (exponential backoff with jitter, honouring Retry-After) and a timeout per
/// attempt, so a dead or slow receiver delays only its own queue.
/// </summary>
public sealed class NotificationDispatcher : INotificationSink, IAsyncDisposable
{
    private static readonly Meter Meter = new(EngineTelemetry.Name);
    private static readonly Counter<long> Outcomes = Meter.CreateCounter<long>("respond.notifications", "{notification}",
        "Notifications by target, kind, event and result: sent, failed (every attempt failed), dropped (queue full or not delivered before shutdown)");

    private readonly NotificationOptions _options;
    private readonly TimeProvider _time;
    private readonly Action<string> _warn;
    private readonly HttpClient _http;
    private readonly CancellationTokenSource _stop = new();
    private readonly ImmutableArray<Receiver> _receivers;
    private int _disposed;

    private NotificationDispatcher(NotificationOptions options, ImmutableArray<Receiver> receivers, TimeProvider time, Action<string> warn, HttpMessageHandler? handler)
    {
        _options = options;
        _time = time;
        _warn = warn;
        _http = new HttpClient(handler ?? new SocketsHttpHandler { AllowAutoRedirect = false, PooledConnectionLifetime = TimeSpan.FromMinutes(5) }) { Timeout = Timeout.InfiniteTimeSpan };
        _http.DefaultRequestHeaders.UserAgent.ParseAdd("ResponseEngine-notifications/1");
        _receivers = receivers;
        foreach (var receiver in _receivers) receiver.Worker = Task.Run(() => DeliverAsync(receiver));
    }

    /// <summary>Counts so far, per target: what a run reports at its end and the tests read.</summary>
    public IReadOnlyDictionary<string, (long Sent, long Failed, long Dropped)> Counts =>
        _receivers.ToDictionary(r => r.Target.Name, r => (Interlocked.Read(ref r.Sent), Interlocked.Read(ref r.Failed), Interlocked.Read(ref r.Dropped)));

    /// <summary>
    /// The dispatcher for <paramref name="options"/>, with URLs and secrets read from the environment now; each variable
    /// that is named but unset is a problem naming the target and the variable (never a value). Null when no target is configured.
    /// </summary>
    public static (NotificationDispatcher? Dispatcher, ImmutableArray<string> Problems) Create(NotificationOptions options, Func<string, string?> environment,
        TimeProvider time, Action<string> warn, HttpMessageHandler? handler = null)
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(environment);
        if (options.Targets.IsEmpty) return (null, []);
        var problems = ImmutableArray.CreateBuilder<string>();
        var receivers = ImmutableArray.CreateBuilder<Receiver>();
        foreach (var target in options.Targets)
        {
            var url = target.Url;
            if (target.UrlEnv is { } urlEnv)
            {
                url = environment(urlEnv);
                if (string.IsNullOrWhiteSpace(url)) problems.Add($"notifications.targets.{target.Name}: url_env names {urlEnv}, which is not set");
                else if (!(Uri.TryCreate(url.Trim(), UriKind.Absolute, out var parsed) && parsed.Scheme is "http" or "https"))
                    problems.Add($"notifications.targets.{target.Name}: {urlEnv} does not hold an http(s) URL");
            }

            string? secret = null;
            if (target.SecretEnv is { } secretEnv)
            {
                secret = environment(secretEnv);
                if (string.IsNullOrEmpty(secret)) problems.Add($"notifications.targets.{target.Name}: secret_env names {secretEnv}, which is not set");
                else if (Encoding.UTF8.GetByteCount(secret) < 32) problems.Add($"notifications.targets.{target.Name}: the key in {secretEnv} is shorter than 32 bytes; use e.g. `openssl rand -base64 48`");
            }

            if (url is not null && Uri.TryCreate(url.Trim(), UriKind.Absolute, out var uri))
            {
                receivers.Add(new Receiver(target, uri, secret, Channel.CreateBounded<Notification>(new BoundedChannelOptions(options.Queue)
                {
                    SingleReader = true, FullMode = BoundedChannelFullMode.Wait,
                })));
            }
        }

        return problems.Count > 0 ? (null, problems.ToImmutable()) : (new NotificationDispatcher(options, receivers.ToImmutable(), time, warn, handler), []);
    }

    /// <summary>Queues the notification for each receiver that wants its event; never waits and never throws.</summary>
    public void Publish(Notification notification)
    {
        ArgumentNullException.ThrowIfNull(notification);
        foreach (var receiver in _receivers)
        {
            if (!receiver.Target.Events.Contains(notification.Event)) continue;
            if (receiver.Queue.Writer.TryWrite(notification)) continue;
            var dropped = Interlocked.Increment(ref receiver.Dropped);
            Count(receiver, notification, "dropped");
            if (dropped == 1 || dropped % 100 == 0)
            {
                Warn($"notification to {receiver.Target.Name} dropped ({notification.Event.Name()}: {notification.Title}): its queue of {_options.Queue} is full (receiver slow or down); {dropped} dropped so far");
            }
        }
    }

    /// <summary>
    /// Stops taking notifications and gives the queued ones until notifications.drain to go out; what is still queued or
    /// in flight then is dropped (counted and logged), so a hanging receiver cannot hold up the end of a run or of serve.
    /// </summary>
    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _disposed, 1) == 1) return;
        foreach (var receiver in _receivers) receiver.Queue.Writer.TryComplete();
        var workers = Task.WhenAll(_receivers.Select(r => r.Worker!));
        try
        {
            await workers.WaitAsync(_options.Drain, _time).ConfigureAwait(false);
        }
        catch (TimeoutException)
        {
            await _stop.CancelAsync().ConfigureAwait(false);
            await workers.ConfigureAwait(false);
        }

        _http.Dispose();
        _stop.Dispose();
    }

    private async Task DeliverAsync(Receiver receiver)
    {
        var pipeline = Pipeline();
        Notification? current = null;
        try
        {
            await foreach (var notification in receiver.Queue.Reader.ReadAllAsync(_stop.Token).ConfigureAwait(false))
            {
                current = notification;
                await DeliverOneAsync(receiver, pipeline, notification).ConfigureAwait(false);
                current = null;
            }
        }
        catch (OperationCanceledException) when (_stop.IsCancellationRequested)
        {
            var left = (current is null ? 0 : 1) + receiver.Queue.Reader.Count;
            if (current is not null) Count(receiver, current, "dropped");
            while (receiver.Queue.Reader.TryRead(out var unsent)) Count(receiver, unsent, "dropped");
            Interlocked.Add(ref receiver.Dropped, left);
            if (left > 0) Warn($"{left} notification(s) to {receiver.Target.Name} not delivered: still queued or in flight after notifications.drain ({DurationText.Format(_options.Drain)})");
        }
    }

    private async Task DeliverOneAsync(Receiver receiver, ResiliencePipeline<HttpResponseMessage> pipeline, Notification notification)
    {
        var deliveryId = Guid.NewGuid().ToString("N");
        var body = Encoding.UTF8.GetBytes((receiver.Target.Kind switch
        {
            "teams" => NotificationPayloads.Teams(notification),
            "slack" => NotificationPayloads.Slack(notification),
            _ => NotificationPayloads.Webhook(notification, deliveryId),
        }).ToJsonString());
        try
        {
            using var response = await pipeline.ExecuteAsync(
                async token => await _http.SendAsync(Request(receiver, body, deliveryId, notification), HttpCompletionOption.ResponseHeadersRead, token).ConfigureAwait(false),
                _stop.Token).ConfigureAwait(false);
            if (response.IsSuccessStatusCode)
            {
                Interlocked.Increment(ref receiver.Sent);
                Count(receiver, notification, "sent");
                return;
            }

            Failed(receiver, notification, $"HTTP {(int)response.StatusCode} {response.ReasonPhrase}");
        }
        catch (Exception e) when (e is HttpRequestException or Polly.Timeout.TimeoutRejectedException or IOException
            || (e is OperationCanceledException && !_stop.IsCancellationRequested))
        {
            Failed(receiver, notification, e.Message);
        }
    }

    private HttpRequestMessage Request(Receiver receiver, byte[] body, string deliveryId, Notification notification)
    {
        var request = new HttpRequestMessage(HttpMethod.Post, receiver.Url) { Content = new ByteArrayContent(body) };
        request.Content.Headers.ContentType = new MediaTypeHeaderValue("application/json") { CharSet = "utf-8" };
        if (receiver.Secret is { } secret)
        {
            // Signed anew on every attempt, so a retry after a long Retry-After is still inside the receiver's replay window;
            // the delivery id stays the same, so a receiver can drop a retry of what it already took.
            var timestamp = _time.GetUtcNow().ToUnixTimeSeconds().ToString(CultureInfo.InvariantCulture);
            request.Headers.Add(WebhookAuthenticator.TimestampHeader, timestamp);
            request.Headers.Add(WebhookAuthenticator.SignatureHeader, WebhookAuthenticator.Sign(secret, timestamp, body));
            request.Headers.Add(DeliveryHeader, deliveryId);
            request.Headers.Add(EventHeader, notification.Event.Name());
        }

        return request;
    }

    /// <summary>The delivery's id, the same on every retry of it.</summary>
    public const string DeliveryHeader = "X-Respond-Delivery";

    /// <summary>The event's name (breaker_opened, approval_needed, action_failed, connector_unreachable).</summary>
    public const string EventHeader = "X-Respond-Event";

    private ResiliencePipeline<HttpResponseMessage> Pipeline() =>
        new ResiliencePipelineBuilder<HttpResponseMessage> { TimeProvider = _time }
            .AddRetry(new RetryStrategyOptions<HttpResponseMessage>
            {
                MaxRetryAttempts = Math.Max(0, _options.Attempts - 1),
                BackoffType = DelayBackoffType.Exponential,
                UseJitter = true,
                Delay = _options.RetryDelay,
                MaxDelay = _options.MaxRetryDelay,
                ShouldHandle = args => ValueTask.FromResult(!_stop.IsCancellationRequested && HttpClientResiliencePredicates.IsTransient(args.Outcome)),
                DelayGenerator = args => ValueTask.FromResult(RetryAfter(args.Outcome.Result, _time.GetUtcNow(), _options.MaxRetryDelay)),
            })
            .AddTimeout(_options.Timeout)
            .Build();

    /// <summary>The receiver's Retry-After (seconds or a date), capped at notifications.max_retry_delay; null for the usual backoff.</summary>
    internal static TimeSpan? RetryAfter(HttpResponseMessage? response, DateTimeOffset now, TimeSpan max)
    {
        if (response?.Headers.RetryAfter is not { } header) return null;
        var wait = header.Delta ?? (header.Date is { } date ? date - now : null);
        return wait is { } w ? TimeSpan.FromTicks(Math.Clamp(w.Ticks, 0, max.Ticks)) : null;
    }

    private void Failed(Receiver receiver, Notification notification, string why)
    {
        Interlocked.Increment(ref receiver.Failed);
        Count(receiver, notification, "failed");
        Warn($"notification to {receiver.Target.Name} failed after {_options.Attempts} attempt(s) ({notification.Event.Name()}: {notification.Title}): {why}");
    }

    private void Warn(string message)
    {
        try
        {
            _warn(NotificationPayloads.Plain(message));
        }
        catch (Exception e) when (e is IOException or ObjectDisposedException or InvalidOperationException)
        {
            // A log that cannot be written must not stop delivery.
        }
    }

    private static void Count(Receiver receiver, Notification notification, string result) =>
        Outcomes.Add(1, new("target", receiver.Target.Name), new("kind", receiver.Target.Kind), new("event", notification.Event.Name()), new("result", result));

    private sealed class Receiver(NotificationTarget target, Uri url, string? secret, Channel<Notification> queue)
    {
        public long Sent;
        public long Failed;
        public long Dropped;

        public NotificationTarget Target { get; } = target;

        public Uri Url { get; } = url;

        public string? Secret { get; } = secret;

        public Channel<Notification> Queue { get; } = queue;

        public Task? Worker { get; set; }
    }
}
