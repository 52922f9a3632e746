using System.Net;
using System.Net.Sockets;

namespace ResponseEngine.Console.Tests;

/// <summary>
/// The console behind a TLS-terminating reverse proxy (console.forwarded_headers): a real `respond serve` trusting
/// 127.0.0.2 only. A sign-in through the proxy (requests from 127.0.0.2 carrying X-Forwarded-Proto: https and
/// X-Forwarded-Host) gets the public https redirect URI and a Secure session cookie; the same headers from anyone else
/// (127.0.0.1) change nothing. The whole authorization-code flow runs over plain HTTP clients, the cookies carried by hand.
/// </summary>
public sealed class ConsoleForwardedHeadersTests(ProxiedConsoleServe serve) : IClassFixture<ProxiedConsoleServe>
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task FromTheTrustedProxy_TheRedirectUriAndTheSessionCookieFollowTheForwardedSchemeAndHost()
    {
        var (redirectUri, session) = await SignInAsync(ProxiedConsoleServe.ProxyAddress);

        redirectUri.Should().Be($"https://{ProxiedConsoleServe.PublicHost}/console/signin-oidc");
        session.Should().StartWith("respond.console=").And.Contain("; secure", "the person reached the console over https at the proxy");
    }

    [Fact]
    public async Task FromAnyoneElse_TheForwardedHeadersAreIgnored()
    {
        var (redirectUri, session) = await SignInAsync("127.0.0.1");

        redirectUri.Should().Be(new Uri(serve.Serve.Url, "/console/signin-oidc").AbsoluteUri, "127.0.0.1 is not a trusted proxy: its X-Forwarded-* are not believed");
        session.Should().StartWith("respond.console=").And.NotContain("; secure");
    }

    /// <summary>Signs Alice in with requests sent from <paramref name="from"/>, each carrying the proxy's headers; returns the redirect URI serve asked for and its session cookie.</summary>
    private async Task<(string RedirectUri, string SessionCookie)> SignInAsync(string from)
    {
        using var console = Client(IPAddress.Parse(from));
        using var oidc = new HttpClient();
        var cookies = new Dictionary<string, string>(StringComparer.Ordinal);

        using var challenge = await SendAsync(console, HttpMethod.Get, "/console/signin?returnUrl=/console/", cookies, null);
        challenge.StatusCode.Should().Be(HttpStatusCode.Found, await challenge.Content.ReadAsStringAsync(Ct));
        var authorize = challenge.Headers.Location!;
        authorize.GetLeftPart(UriPartial.Path).Should().Be(serve.Oidc.Issuer + "/authorize");
        var redirectUri = Uri.UnescapeDataString(authorize.Query.TrimStart('?').Split('&').Single(p => p.StartsWith("redirect_uri=", StringComparison.Ordinal)).Split('=', 2)[1]);

        var fields = OidcEmulatorTests.Fields(await oidc.GetStringAsync(authorize, Ct));
        fields["user"] = ConsoleServe.Alice.Subject;
        using var chosen = await oidc.PostAsync(new Uri(serve.Oidc.Issuer + "/authorize"), new FormUrlEncodedContent(fields), Ct);
        var formPost = await chosen.Content.ReadAsStringAsync(Ct);
        formPost.Should().Contain(WebUtility.HtmlEncode(redirectUri), "the provider answers to the redirect URI serve asked for");

        // The browser would post the code to that URI; the proxy passes it to serve with the same headers.
        using var callback = await SendAsync(console, HttpMethod.Post, "/console/signin-oidc", cookies, new FormUrlEncodedContent(OidcEmulatorTests.Fields(formPost)));
        callback.StatusCode.Should().Be(HttpStatusCode.Found, await callback.Content.ReadAsStringAsync(Ct) + serve.Serve.Log);
        var session = callback.Headers.GetValues("Set-Cookie").Single(c => c.StartsWith("respond.console=", StringComparison.Ordinal));
        return (redirectUri, session);
    }

    private async Task<HttpResponseMessage> SendAsync(HttpClient client, HttpMethod method, string path, Dictionary<string, string> cookies, HttpContent? content)
    {
        using var request = new HttpRequestMessage(method, new Uri(serve.Serve.Url, path)) { Content = content };
        request.Headers.Add("X-Forwarded-Proto", "https");
        request.Headers.Add("X-Forwarded-Host", ProxiedConsoleServe.PublicHost);
        request.Headers.Add("X-Forwarded-For", "203.0.113.7");
        if (cookies.Count > 0) request.Headers.Add("Cookie", string.Join("; ", cookies.Select(c => $"{c.Key}={c.Value}")));
        var response = await client.SendAsync(request, Ct);
        if (response.Headers.TryGetValues("Set-Cookie", out var set))
        {
            foreach (var pair in set.Select(c => c.Split(';', 2)[0].Split('=', 2))) cookies[pair[0]] = pair[1];
        }

        return response;
    }

    /// <summary>An HTTP client whose connections leave from <paramref name="local"/> (a loopback address), as the proxy's would.</summary>
    private static HttpClient Client(IPAddress local) => new(new SocketsHttpHandler
    {
        AllowAutoRedirect = false,
        UseCookies = false,
        ConnectCallback = async (context, ct) =>
        {
            var socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
            try
            {
                socket.Bind(new IPEndPoint(local, 0));
                await socket.ConnectAsync(context.DnsEndPoint, ct);
                return new NetworkStream(socket, ownsSocket: true);
            }
            catch
            {
                socket.Dispose();
                throw;
            }
        },
    });
}
