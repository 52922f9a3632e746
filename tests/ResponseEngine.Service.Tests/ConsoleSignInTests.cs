using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using System.Text.RegularExpressions;
using FluentAssertions;
using ResponseEngine.Audit;
using ResponseEngine.TestKit.Oidc;
using Xunit;

namespace ResponseEngine.Service.Tests;

/// <summary>
/// People sign in to a real `respond serve` through the OIDC emulator (authorization code + PKCE, form_post): the role
/// comes from the groups claim as console.roles maps it; a cookie-authenticated state change without the anti-forgery
/// token is refused before anything happens; with it, an approval is audited with the person's name and the console
/// channel; a viewer cannot approve; a person no role maps gets nothing; no secret or token reaches the log.
/// </summary>
public sealed partial class ConsoleSignInTests
{
    private const string ClientSecret = "console-client-secret-0123456789";

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    private static DateTimeOffset Now => TimeProvider.System.GetUtcNow();

    [GeneratedRegex("<input type=\"hidden\" name=\"(?<name>[^\"]*)\" value=\"(?<value>[^\"]*)\">")]
    private static partial Regex HiddenInput();

    private static Dictionary<string, string> Fields(string html) =>
        HiddenInput().Matches(html).ToDictionary(m => WebUtility.HtmlDecode(m.Groups["name"].Value), m => WebUtility.HtmlDecode(m.Groups["value"].Value));

    /// <summary>Signs <paramref name="subject"/> in through the console's /console/signin; returns a client holding the sign-in cookie.</summary>
    private static async Task<HttpClient> SignInAsync(ServeProcess serve, OidcEmulator oidc, string subject)
    {
        var client = new HttpClient(new LoopbackCookies(new HttpClientHandler { UseCookies = false, AllowAutoRedirect = false }));
        using var oidcClient = new HttpClient();
        using var challenge = await client.GetAsync(new Uri(serve.Url, "/console/signin?returnUrl=/v1/session"), Ct);
        challenge.StatusCode.Should().Be(HttpStatusCode.Found, serve.Log);
        var authorize = challenge.Headers.Location!;
        authorize.GetLeftPart(UriPartial.Path).Should().Be(oidc.Issuer + "/authorize");
        authorize.Query.Should().Contain("code_challenge_method=S256");
        var fields = Fields(await oidcClient.GetStringAsync(authorize, Ct));
        fields["user"] = subject;
        using var chosen = await oidcClient.PostAsync(new Uri(oidc.Issuer + "/authorize"), new FormUrlEncodedContent(fields), Ct);
        var formPost = await chosen.Content.ReadAsStringAsync(Ct);
        using var callback = await client.PostAsync(new Uri(serve.Url, "/console/signin-oidc"), new FormUrlEncodedContent(Fields(formPost)), Ct);
        callback.StatusCode.Should().Be(HttpStatusCode.Found, await callback.Content.ReadAsStringAsync(Ct) + serve.Log);
        callback.Headers.Location!.OriginalString.Should().Be("/v1/session");
        return client;
    }

    private static async Task<JsonElement> SessionAsync(HttpClient client, ServeProcess serve)
    {
        using var session = await client.GetAsync(new Uri(serve.Url, "/v1/session"), Ct);
        session.StatusCode.Should().Be(HttpStatusCode.OK, await session.Content.ReadAsStringAsync(Ct));
        return JsonDocument.Parse(await session.Content.ReadAsStringAsync(Ct)).RootElement.Clone();
    }

    private static async Task<HttpResponseMessage> PostAsync(HttpClient client, ServeProcess serve, string path, object body, string? antiforgery)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, new Uri(serve.Url, path)) { Content = JsonContent.Create(body) };
        if (antiforgery is not null) request.Headers.Add("X-CSRF-TOKEN", antiforgery);
        return await client.SendAsync(request, Ct);
    }

    [Fact]
    public async Task SignedInPeople_ActByTheirRole_AndEveryCookieStateChangeNeedsTheAntiforgeryToken()
    {
        await using var oidc = await OidcEmulator.StartAsync(TimeProvider.System, https: false, Ct);
        oidc.AddUser(new OidcUser("u-ann", "Ann Approver", "ann@corp.example", Groups: ["respond-approvers"]));
        oidc.AddUser(new OidcUser("u-vic", "Vic Viewer", "vic@corp.example", Groups: ["respond-viewers"]));
        oidc.AddUser(new OidcUser("u-nora", "Nora Nobody", "nora@corp.example", Groups: ["marketing"]));
        using var workspace = new ServeWorkspace($"""
            console:
              oidc: {"{"} authority: "{oidc.Issuer}", client_id: respond-console, client_secret_env: T_CONSOLE_OIDC_SECRET {"}"}
              roles: {"{"} viewer: [respond-viewers], approver: [respond-approvers] {"}"}
            """);
        workspace.Write("rules/okta/okta-approve-deactivate.yaml", ServeApprovalTests.ApprovalRule);
        await using var serve = await ServeProcess.StartAsync(workspace.Path, new Dictionary<string, string> { ["T_CONSOLE_OIDC_SECRET"] = ClientSecret });
        oidc.RegisterClient("respond-console", ClientSecret, [new Uri(serve.Url, "/console/signin-oidc")]);

        using var ann = await SignInAsync(serve, oidc, "u-ann");
        var session = await SessionAsync(ann, serve);
        (session.GetProperty("name").GetString(), session.GetProperty("role").GetString(), session.GetProperty("channel").GetString()).Should().Be(("ann@corp.example", "approver", "console"));
        var token = session.GetProperty("antiforgery_token").GetString()!;
        session.GetProperty("antiforgery_header").GetString().Should().Be("X-CSRF-TOKEN");

        // A decision held for approval.
        using (var http = new HttpClient())
        using (var posted = await http.SendAsync(ServeWorkspace.Signed(new Uri(serve.Url, "/v1/findings"), "[" + ServeWorkspace.Finding("signin-approval-1", ServeWorkspace.OktaUsers[4], type: "insider_exfiltration") + "]", Now), Ct))
        {
            posted.StatusCode.Should().Be(HttpStatusCode.Accepted);
        }

        AuditRecord? held = null;
        await ServeWorkspace.Eventually(async () =>
        {
            held = (await workspace.TrailAsync(Ct)).FirstOrDefault(r => r.Entry.Status == AuditStatus.Held && r.Entry.Guard == "approval");
            return held is not null;
        }, TimeSpan.FromMinutes(3), "the decision is held for approval", () => serve.Log);
        var path = $"/v1/approvals/{held!.Sequence.ToString(System.Globalization.CultureInfo.InvariantCulture)}/approve";

        using (var forged = await PostAsync(ann, serve, path, new { reason = "forged" }, antiforgery: null))
        {
            forged.StatusCode.Should().Be(HttpStatusCode.BadRequest, "a cookie alone does not change anything");
            (await forged.Content.ReadAsStringAsync(Ct)).Should().Contain("anti-forgery");
        }

        using (var wrong = await PostAsync(ann, serve, path, new { reason = "forged" }, antiforgery: "not-the-token"))
        {
            wrong.StatusCode.Should().Be(HttpStatusCode.BadRequest);
        }

        (await workspace.TrailAsync(Ct)).Should().NotContain(r => r.Entry.Status == AuditStatus.Approved, "nothing was written for a refused request");

        using var vic = await SignInAsync(serve, oidc, "u-vic");
        var vicToken = (await SessionAsync(vic, serve)).GetProperty("antiforgery_token").GetString();
        using (var viewer = await PostAsync(vic, serve, path, new { reason = "I am only a viewer" }, vicToken))
        {
            viewer.StatusCode.Should().Be(HttpStatusCode.Forbidden);
        }

        using (var approved = await PostAsync(ann, serve, path, new { reason = "confirmed with the manager" }, token))
        {
            approved.StatusCode.Should().Be(HttpStatusCode.OK, await approved.Content.ReadAsStringAsync(Ct));
        }

        await ServeWorkspace.Eventually(async () => (await workspace.TrailAsync(Ct)).Any(r => r.Entry.Status == AuditStatus.Succeeded && r.Entry.FindingId == "signin-approval-1"),
            TimeSpan.FromMinutes(3), "the service executes the decision Ann approved", () => serve.Log);
        var approval = (await workspace.TrailAsync(Ct)).Single(r => r.Entry.Status == AuditStatus.Approved);
        (approval.Entry.Actor, approval.Entry.Reason).Should().Be(("ann@corp.example", "confirmed with the manager"));
        approval.Entry.RunId.Should().StartWith("operator-console-");

        using var nora = await SignInAsync(serve, oidc, "u-nora");
        using (var nothing = await nora.GetAsync(new Uri(serve.Url, "/v1/approvals"), Ct))
        {
            nothing.StatusCode.Should().Be(HttpStatusCode.Forbidden, "a person no role maps sees nothing");
        }

        serve.Log.Should().NotContain(ClientSecret).And.NotContain(token);
    }

    /// <summary>
    /// Cookies as a browser keeps them for http://127.0.0.1, which it treats as a secure context: Secure cookies (the OIDC
    /// handler's correlation and nonce cookies are Secure and SameSite=None) are sent back over plain http, which .NET's
    /// CookieContainer does not do. One host, no paths or expiry beyond deletion: enough for a sign-in on loopback.
    /// </summary>
    private sealed class LoopbackCookies(HttpMessageHandler inner) : DelegatingHandler(inner)
    {
        private readonly Dictionary<string, string> _cookies = new(StringComparer.Ordinal);

        protected override async Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
        {
            lock (_cookies)
            {
                if (_cookies.Count > 0) request.Headers.Add("Cookie", string.Join("; ", _cookies.Select(c => $"{c.Key}={c.Value}")));
            }

            var response = await base.SendAsync(request, cancellationToken);
            if (response.Headers.TryGetValues("Set-Cookie", out var setCookies))
            {
                lock (_cookies)
                {
                    foreach (var header in setCookies)
                    {
                        var pair = header.Split(';', 2)[0];
                        var at = pair.IndexOf('=', StringComparison.Ordinal);
                        var (name, value) = (pair[..at].Trim(), pair[(at + 1)..].Trim());
                        if (value.Length == 0 || header.Contains("expires=Thu, 01 Jan 1970", StringComparison.OrdinalIgnoreCase)) _cookies.Remove(name);
                        else _cookies[name] = value;
                    }
                }
            }

            return response;
        }
    }
}
