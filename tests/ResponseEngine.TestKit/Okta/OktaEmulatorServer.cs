using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;

namespace ResponseEngine.TestKit.Okta;

/// <summary>
/// An <see cref="OktaEmulator"/> served over real HTTP by Kestrel on a loopback port, so that an engine in another process
/// (<c>respond serve</c>, <c>respond run</c>) calls it as it would call an org: connectors.okta.base_url is
/// <see cref="BaseUrl"/>. Every call is handed to the emulator unchanged, which answers it under its own lock; tests read
/// the org with <see cref="OktaEmulator.Inspect"/> (also under that lock) while calls are in flight.
/// </summary>
public sealed class OktaEmulatorServer : IAsyncDisposable
{
    private readonly WebApplication _app;
    private readonly HttpMessageInvoker _invoker;

    private OktaEmulatorServer(WebApplication app, OktaEmulator org)
    {
        _app = app;
        Org = org;
        _invoker = new HttpMessageInvoker(org, disposeHandler: false);
    }

    /// <summary>The org; its base URL is the server's.</summary>
    public OktaEmulator Org { get; }

    public Uri BaseUrl => Org.BaseUrl;

    /// <summary>Starts Kestrel on 127.0.0.1 with an ephemeral port and an empty org whose base URL is that address.</summary>
    public static async Task<OktaEmulatorServer> StartAsync(TimeProvider time, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(time);
        OktaEmulatorServer? server = null;
        var (app, address) = await LoopbackServer.StartAsync(context => server!.ForwardAsync(context), cancellationToken: cancellationToken).ConfigureAwait(false);
        server = new OktaEmulatorServer(app, new OktaEmulator(time, new Uri(address + "/")));
        return server;
    }

    public async ValueTask DisposeAsync()
    {
        await _app.StopAsync(CancellationToken.None).ConfigureAwait(false);
        await _app.DisposeAsync().ConfigureAwait(false);
        _invoker.Dispose();
        Org.Dispose();
    }

    private async Task ForwardAsync(HttpContext context)
    {
        var raw = context.Features.Get<IHttpRequestFeature>()!.RawTarget;
        using var request = new HttpRequestMessage(new HttpMethod(context.Request.Method), new Uri(BaseUrl, raw));
        foreach (var (name, values) in context.Request.Headers)
        {
            if (name.StartsWith("Content-", StringComparison.OrdinalIgnoreCase) || name.Equals("Host", StringComparison.OrdinalIgnoreCase)) continue;
            request.Headers.TryAddWithoutValidation(name, values.ToArray());
        }

        // A body, even an empty one sent with Content-Length: 0 (which Okta requires of a POST), is passed on as sent.
        if (context.Request.ContentLength is not null || context.Request.Headers.TransferEncoding.Count > 0)
        {
            using var body = new MemoryStream();
            await context.Request.Body.CopyToAsync(body, context.RequestAborted).ConfigureAwait(false);
            request.Content = new ByteArrayContent(body.ToArray());
            if (context.Request.ContentType is { } type) request.Content.Headers.TryAddWithoutValidation("Content-Type", type);
        }

        HttpResponseMessage response;
        try
        {
            response = await _invoker.SendAsync(request, context.RequestAborted).ConfigureAwait(false);
        }
        catch (TaskCanceledException)
        {
            // The Timeout fault: Okta never answered; the client sees the connection dropped.
            context.Abort();
            return;
        }

        using (response)
        {
            context.Response.StatusCode = (int)response.StatusCode;
            foreach (var (name, values) in response.Headers) context.Response.Headers[name] = values.ToArray();
            foreach (var (name, values) in response.Content.Headers)
            {
                if (!name.Equals("Content-Length", StringComparison.OrdinalIgnoreCase)) context.Response.Headers[name] = values.ToArray();
            }

            var bytes = await response.Content.ReadAsByteArrayAsync(context.RequestAborted).ConfigureAwait(false);
            await context.Response.Body.WriteAsync(bytes, context.RequestAborted).ConfigureAwait(false);
        }
    }
}
