using System.Collections.Concurrent;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using ResponseEngine.TestKit;

namespace ResponseEngine.Service.Tests;

/// <summary>
/// A real HTTP receiver on loopback (Kestrel) that records every post and answers as the test says: 200, a failure for
/// the first attempts, or never (until the test releases it), as a Teams, Slack or SIEM endpoint in a bad mood would.
/// </summary>
public sealed class NotificationReceiver : IAsyncDisposable
{
    private readonly ConcurrentQueue<Received> _requests = new();
    private readonly SemaphoreSlim _arrived = new(0);
    private readonly TaskCompletionSource _release = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private WebApplication? _app;
    private int _count;

    /// <summary>One post as it arrived.</summary>
    public sealed record Received(int Attempt, string Body, string? ContentType, string? Signature, string? Timestamp, string? Delivery, string? Event, DateTimeOffset At);

    public string Url { get; private set; } = "";

    public IReadOnlyList<Received> Requests => [.. _requests];

    /// <summary>True until <see cref="Release"/>: a hanging receiver has answered nothing while this holds.</summary>
    public bool Holding => !_release.Task.IsCompleted;

    /// <summary>Starts a receiver; <paramref name="respond"/> gets the attempt number (1, 2, …) and answers, or the receiver answers 200.</summary>
    public static async Task<NotificationReceiver> StartAsync(Func<int, HttpContext, NotificationReceiver, Task>? respond = null)
    {
        var receiver = new NotificationReceiver();
        var (app, address) = await LoopbackServer.StartAsync(async context =>
        {
            using var reader = new StreamReader(context.Request.Body);
            var body = await reader.ReadToEndAsync(context.RequestAborted);
            var attempt = Interlocked.Increment(ref receiver._count);
            string? Header(string name) => context.Request.Headers.TryGetValue(name, out var v) ? v.ToString() : null;
            receiver._requests.Enqueue(new Received(attempt, body, context.Request.ContentType, Header("X-Respond-Signature"), Header("X-Respond-Timestamp"),
                Header("X-Respond-Delivery"), Header("X-Respond-Event"), TimeProvider.System.GetUtcNow()));
            receiver._arrived.Release();
            if (respond is not null) await respond(attempt, context, receiver);
            else context.Response.StatusCode = 200;
        });
        receiver._app = app;
        receiver.Url = address + "/hook";
        return receiver;
    }

    /// <summary>A responder that never answers until the test calls <see cref="Release"/>.</summary>
    public static Func<int, HttpContext, NotificationReceiver, Task> Hang => async (_, context, self) =>
    {
        await self._release.Task.WaitAsync(context.RequestAborted).ContinueWith(_ => { }, TaskScheduler.Default);
        context.Response.StatusCode = 200;
    };

    public void Release() => _release.TrySetResult();

    /// <summary>Waits until <paramref name="count"/> posts have arrived; the deadline is a failure, never a wait that passes.</summary>
    public async Task<IReadOnlyList<Received>> WaitForAsync(int count, TimeSpan deadline)
    {
        using var timeout = new CancellationTokenSource(deadline);
        while (_requests.Count < count)
        {
            try
            {
                await _arrived.WaitAsync(timeout.Token);
            }
            catch (OperationCanceledException)
            {
                throw new Xunit.Sdk.XunitException($"not within {deadline.TotalSeconds:0} s: {count} notification post(s) at {Url}; got {_requests.Count}");
            }
        }

        return Requests;
    }

    public async ValueTask DisposeAsync()
    {
        Release();
        if (_app is not null) await _app.DisposeAsync();
        _arrived.Dispose();
    }
}
