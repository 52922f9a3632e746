using System.Collections.Concurrent;
using System.Diagnostics.Metrics;
using System.Text;
using System.Text.Json;
using Microsoft.AspNetCore.Http;
using ResponseEngine.Configuration;
using ResponseEngine.Notifications;
using ResponseEngine.Service.Notifications;
using ResponseEngine.Service.Webhook;

namespace ResponseEngine.Service.Tests;

/// <summary>
/// Notifications against real HTTP receivers on loopback: each kind's payload as its service documents it, the signed
/// webhook's signature checked the way a receiver would, retries after 500 and 429 (Retry-After honoured), and a full
/// queue dropping (counted in the metric, logged) instead of waiting.
/// </summary>
public sealed class NotificationDispatcherTests
{
    private static readonly TimeSpan Deadline = TimeSpan.FromSeconds(60);
    private const string Key = "notification-test-key-0123456789abcdef";

    private static readonly Notification Hostile = new(NotificationEvent.ActionFailed, new DateTimeOffset(2026, 11, 20, 8, 0, 0, TimeSpan.Zero),
        "Action failed: disable_user on okta <!channel> [click](https://evil.example)",
        [new("target", "okta mallory\u001b[2J\u202e@corp.example"), new("error", "*bold* <https://evil.example|login> & more"), new("audit", "#42")])
    {
        AuditSequence = 42, RunId = "run-1", Host = "node-a",
    };

    private sealed class Warnings
    {
        private readonly ConcurrentQueue<string> _lines = new();

        public Action<string> Sink => _lines.Enqueue;

        public IReadOnlyList<string> Lines => [.. _lines];
    }

    private static NotificationDispatcher Dispatcher(NotificationOptions options, Warnings warnings, Dictionary<string, string>? environment = null)
    {
        var (dispatcher, problems) = NotificationDispatcher.Create(options, name => environment?.GetValueOrDefault(name), TimeProvider.System, warnings.Sink);
        problems.Should().BeEmpty();
        return dispatcher!;
    }

    private static NotificationTarget Target(string kind, string url, string? secretEnv = null, string? name = null) =>
        new(name ?? $"{kind}-{Guid.NewGuid():N}", kind, url, null, secretEnv, NotificationEvents.All);

    [Fact]
    public async Task Publish_EachKind_DeliversItsDocumentedPayloadWithDataEscaped()
    {
        await using var teams = await NotificationReceiver.StartAsync();
        await using var slack = await NotificationReceiver.StartAsync();
        await using var webhook = await NotificationReceiver.StartAsync();
        var warnings = new Warnings();
        var options = new NotificationOptions
        {
            Targets = [Target("teams", teams.Url), Target("slack", slack.Url), Target("webhook", webhook.Url, "NOTIFY_KEY")],
        };
        await using (var dispatcher = Dispatcher(options, warnings, new() { ["NOTIFY_KEY"] = Key }))
        {
            dispatcher.Publish(Hostile);
            await teams.WaitForAsync(1, Deadline);
            await slack.WaitForAsync(1, Deadline);
            await webhook.WaitForAsync(1, Deadline);
        }

        foreach (var request in new[] { teams, slack, webhook }.Select(r => r.Requests.Single()))
        {
            request.ContentType.Should().StartWith("application/json");
            request.Body.Should().NotContain("\u001b").And.NotContain("\u202e").And.NotContain("\\u001b[2J\\u202e@", "control characters reach no receiver raw");
        }

        // Teams (Workflows / incoming webhook): a message with one Adaptive Card attachment, as MicrosoftDocs/msteams-docs
        // connectors-using.md ("Send adaptive cards using an incoming webhook") shows it.
        var card = JsonDocument.Parse(teams.Requests[0].Body).RootElement;
        card.GetProperty("type").GetString().Should().Be("message");
        var attachment = card.GetProperty("attachments").EnumerateArray().Single();
        attachment.GetProperty("contentType").GetString().Should().Be("application/vnd.microsoft.card.adaptive");
        attachment.GetProperty("contentUrl").ValueKind.Should().Be(JsonValueKind.Null);
        var content = attachment.GetProperty("content");
        content.GetProperty("type").GetString().Should().Be("AdaptiveCard");
        content.GetProperty("$schema").GetString().Should().Be("http://adaptivecards.io/schemas/adaptive-card.json");
        var body = content.GetProperty("body").EnumerateArray().ToList();
        body[0].GetProperty("type").GetString().Should().Be("TextBlock");
        body[0].GetProperty("text").GetString().Should().Contain("\\[click\\]\\(https://evil\\.example\\)", "Markdown from data is escaped, so it is no link");
        var facts = body[1].GetProperty("facts").EnumerateArray().ToDictionary(f => f.GetProperty("title").GetString()!, f => f.GetProperty("value").GetString()!);
        facts["target"].Should().Contain("mallory\\\\e\\[2J\\\\u202e@corp\\.example");
        facts["error"].Should().StartWith("\\*bold\\*");
        facts.Should().ContainKey("host");

        // Slack incoming webhook: text (what notifications show) with &, <, > escaped, and blocks whose data is plain text.
        var slackMessage = JsonDocument.Parse(slack.Requests[0].Body).RootElement;
        var text = slackMessage.GetProperty("text").GetString()!;
        text.Should().Contain("&lt;!channel&gt;").And.NotContain("<!channel>");
        var blocks = slackMessage.GetProperty("blocks").EnumerateArray().ToList();
        blocks[0].GetProperty("type").GetString().Should().Be("header");
        blocks[1].GetProperty("fields").EnumerateArray().Should().OnlyContain(f => f.GetProperty("type").GetString() == "plain_text");
        blocks[1].GetProperty("fields").EnumerateArray().Select(f => f.GetProperty("text").GetString()).Should().Contain(t => t!.StartsWith("error: *bold* <https://evil.example|login>", StringComparison.Ordinal));

        // Signed webhook: the signature verifies as serve's own webhook verifies senders, over "timestamp.body".
        var post = webhook.Requests[0];
        new WebhookAuthenticator(Key, null, TimeSpan.FromMinutes(5), TimeProvider.System)
            .Check(null, post.Signature, post.Timestamp, Encoding.UTF8.GetBytes(post.Body)).Should().BeNull("the signature verifies");
        new WebhookAuthenticator("another-key-another-key-another-key-0", null, TimeSpan.FromMinutes(5), TimeProvider.System)
            .Check(null, post.Signature, post.Timestamp, Encoding.UTF8.GetBytes(post.Body)).Should().NotBeNull("another key does not verify it");
        post.Event.Should().Be("action_failed");
        post.Delivery.Should().MatchRegex("^[0-9a-f]{32}$");
        var document = JsonDocument.Parse(post.Body).RootElement;
        document.GetProperty("type").GetString().Should().Be("respond.notification");
        document.GetProperty("event").GetString().Should().Be("action_failed");
        document.GetProperty("id").GetString().Should().Be(post.Delivery);
        document.GetProperty("audit_sequence").GetInt64().Should().Be(42);
        document.GetProperty("facts").GetProperty("error").GetString().Should().Be("*bold* <https://evil.example|login> & more");
        warnings.Lines.Should().BeEmpty();
    }

    [Fact]
    public async Task Publish_Receiver500Then429WithRetryAfter_RetriesTheSameDeliveryUntilItIsTaken()
    {
        await using var receiver = await NotificationReceiver.StartAsync((attempt, context, _) =>
        {
            context.Response.StatusCode = attempt switch { 1 => 500, 2 => 429, _ => 200 };
            if (attempt == 2) context.Response.Headers.RetryAfter = "1";
            return Task.CompletedTask;
        });
        var warnings = new Warnings();
        var target = Target("webhook", receiver.Url, "NOTIFY_KEY");
        var options = new NotificationOptions { Targets = [target], RetryDelay = TimeSpan.FromMilliseconds(20), Attempts = 5, Drain = Deadline };
        NotificationDispatcher dispatcher;
        await using (dispatcher = Dispatcher(options, warnings, new() { ["NOTIFY_KEY"] = Key }))
        {
            dispatcher.Publish(Hostile);
            await receiver.WaitForAsync(3, Deadline);
        }

        var posts = receiver.Requests;
        posts.Should().HaveCount(3, "a 500 and a 429 are retried, a 200 ends it");
        posts.Select(p => p.Delivery).Distinct().Should().ContainSingle("every retry is the same delivery, so a receiver can drop a repeat");
        posts.Select(p => p.Body).Distinct().Should().ContainSingle();
        foreach (var post in posts)
        {
            new WebhookAuthenticator(Key, null, TimeSpan.FromMinutes(5), TimeProvider.System).Check(null, post.Signature, post.Timestamp, Encoding.UTF8.GetBytes(post.Body))
                .Should().BeNull("each attempt is signed");
        }

        dispatcher.Counts[target.Name].Should().Be((1L, 0L, 0L));
        warnings.Lines.Should().BeEmpty();
    }

    [Theory]
    [InlineData("120", 120)]
    [InlineData("0", 0)]
    [InlineData("86400", 300, "capped at max_retry_delay")]
    [InlineData("date+90", 90)]
    [InlineData("date-30", 0, "a date in the past means now")]
    [InlineData(null, null, "no Retry-After: the exponential backoff decides")]
    public void RetryAfter_ReceiverHeader_IsTheDelayCappedAtTheMaximum(string? header, int? seconds, string because = "")
    {
        var now = new DateTimeOffset(2026, 11, 20, 8, 0, 0, TimeSpan.Zero);
        using var response = new HttpResponseMessage(System.Net.HttpStatusCode.TooManyRequests);
        if (header is { } h && h.StartsWith("date", StringComparison.Ordinal))
        {
            response.Headers.RetryAfter = new System.Net.Http.Headers.RetryConditionHeaderValue(now.AddSeconds(int.Parse(h[4..], System.Globalization.CultureInfo.InvariantCulture)));
        }
        else if (header is not null)
        {
            response.Headers.TryAddWithoutValidation("Retry-After", header).Should().BeTrue();
        }

        NotificationDispatcher.RetryAfter(response, now, TimeSpan.FromMinutes(5)).Should().Be(seconds is { } s ? TimeSpan.FromSeconds(s) : null, because);
    }

    [Fact]
    public async Task Publish_ReceiverAlwaysFails_GivesUpAfterTheAttemptsAndLogs()
    {
        await using var receiver = await NotificationReceiver.StartAsync((_, context, _) =>
        {
            context.Response.StatusCode = 503;
            return Task.CompletedTask;
        });
        var warnings = new Warnings();
        var target = Target("slack", receiver.Url);
        NotificationDispatcher dispatcher;
        await using (dispatcher = Dispatcher(new NotificationOptions { Targets = [target], RetryDelay = TimeSpan.FromMilliseconds(10), Attempts = 3, Drain = Deadline }, warnings))
        {
            dispatcher.Publish(Hostile);
            await receiver.WaitForAsync(3, Deadline);
        }

        receiver.Requests.Should().HaveCount(3);
        dispatcher.Counts[target.Name].Should().Be((0L, 1L, 0L));
        warnings.Lines.Should().ContainSingle().Which.Should().Contain(target.Name).And.Contain("HTTP 503").And.NotContain("\u001b");
    }

    [Fact]
    public async Task Publish_QueueFullBehindAHangingReceiver_DropsCountsAndLogsWithoutWaiting()
    {
        await using var receiver = await NotificationReceiver.StartAsync(NotificationReceiver.Hang);
        var warnings = new Warnings();
        var target = Target("webhook", receiver.Url, "NOTIFY_KEY");
        var measured = new ConcurrentQueue<(long Value, string? Result)>();
        using var listener = new MeterListener();
        listener.InstrumentPublished = (instrument, l) =>
        {
            if (instrument.Name == "respond.notifications") l.EnableMeasurementEvents(instrument);
        };
        listener.SetMeasurementEventCallback<long>((_, value, tags, _) =>
        {
            var all = tags.ToArray();
            string? Tag(string key) => all.FirstOrDefault(t => t.Key == key).Value as string;
            if (Tag("target") == target.Name) measured.Enqueue((value, Tag("result")));
        });
        listener.Start();

        var options = new NotificationOptions { Targets = [target], Queue = 1, Timeout = TimeSpan.FromMinutes(5), Drain = TimeSpan.Zero };
        NotificationDispatcher dispatcher;
        await using (dispatcher = Dispatcher(options, warnings, new() { ["NOTIFY_KEY"] = Key }))
        {
            dispatcher.Publish(Hostile);
            await receiver.WaitForAsync(1, Deadline); // the worker is now stuck on the first post
            dispatcher.Publish(Hostile with { Title = "second" }); // queued
            dispatcher.Publish(Hostile with { Title = "third" }); // the queue of 1 is full: dropped at once
            dispatcher.Counts[target.Name].Dropped.Should().Be(1);
            receiver.Holding.Should().BeTrue("Publish returned while the receiver has answered nothing");
        }

        receiver.Holding.Should().BeTrue("the dispatcher stopped without waiting for the hanging receiver");
        dispatcher.Counts[target.Name].Should().Be((0L, 0L, 3L), "the one in flight and the one queued are dropped at the end of the drain too");
        measured.Where(m => m.Result == "dropped").Sum(m => m.Value).Should().Be(3);
        warnings.Lines.Should().Contain(l => l.Contains("queue of 1 is full", StringComparison.Ordinal) && l.Contains("third", StringComparison.Ordinal));
        warnings.Lines.Should().Contain(l => l.Contains("2 notification(s)", StringComparison.Ordinal) && l.Contains("not delivered", StringComparison.Ordinal));
    }

    [Fact]
    public void Create_VariablesNamedButUnset_NamesTargetAndVariableNeverAValue()
    {
        var options = new NotificationOptions
        {
            Targets =
            [
                new("soc", "teams", null, "TEAMS_URL", null, NotificationEvents.All),
                new("siem", "webhook", "https://hooks.corp.example/respond", null, "NOTIFY_KEY", NotificationEvents.All),
                new("short", "webhook", "https://hooks.corp.example/respond", null, "SHORT_KEY", NotificationEvents.All),
            ],
        };

        var (dispatcher, problems) = NotificationDispatcher.Create(options, name => name == "SHORT_KEY" ? "tiny-secret" : null, TimeProvider.System, _ => { });

        dispatcher.Should().BeNull();
        problems.Should().Equal(
            "notifications.targets.soc: url_env names TEAMS_URL, which is not set",
            "notifications.targets.siem: secret_env names NOTIFY_KEY, which is not set",
            "notifications.targets.short: the key in SHORT_KEY is shorter than 32 bytes; use e.g. `openssl rand -base64 48`");
        string.Join(' ', problems).Should().NotContain("tiny-secret");
    }
}
