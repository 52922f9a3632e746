using System.Net;
using System.Net.Http.Headers;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using System.Text;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using ResponseEngine.TestKit.Oidc;

namespace ResponseEngine.Console.Tests;

/// <summary>
/// The OIDC emulator's authorization code flow with a plain HTTP client, as OpenID Connect Core 1.0 and RFC 7636 say a
/// relying party uses it: discovery, the sign-in page, the code, the exchange with PKCE, the id_token's RS256 signature
/// checked against the JWKS and its claims; and what it must refuse.
/// </summary>
public sealed partial class OidcEmulatorTests : IAsyncLifetime
{
    private const string ClientId = "respond-console";
    private const string Secret = "console-secret-0123";
    private static readonly Uri Callback = new("http://127.0.0.1:5999/signin-oidc");
    private static readonly OidcUser Alice = new("u-alice", "Alice Approver", "alice@corp.example.com", Groups: ["respond-approvers"], Roles: ["Console.Approver"], Email: "alice@corp.example.com");
    private OidcEmulator _oidc = null!;
    private HttpClient _http = null!;

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    public async ValueTask InitializeAsync()
    {
        _oidc = await OidcEmulator.StartAsync(TimeProvider.System, https: true, Ct);
        _oidc.RegisterClient(ClientId, Secret, [Callback], [new Uri("http://127.0.0.1/signed-out")]);
        _oidc.AddUser(Alice);
        _oidc.AddUser(new OidcUser("u-vic", "Vic Viewer", "vic@corp.example.com"));
        _http = new HttpClient(TrustingOnly(_oidc.CaFile), disposeHandler: true);
    }

    public async ValueTask DisposeAsync()
    {
        _http.Dispose();
        await _oidc.DisposeAsync();
    }

    /// <summary>An HTTP handler that trusts only the emulator's CA and follows no redirects.</summary>
    internal static HttpClientHandler TrustingOnly(string caFile)
    {
        var ca = X509Certificate2.CreateFromPem(File.ReadAllText(caFile));
        return new HttpClientHandler
        {
            AllowAutoRedirect = false,
            ServerCertificateCustomValidationCallback = (_, certificate, _, _) =>
            {
                using var chain = new X509Chain();
                chain.ChainPolicy.TrustMode = X509ChainTrustMode.CustomRootTrust;
                chain.ChainPolicy.CustomTrustStore.Add(ca);
                chain.ChainPolicy.RevocationMode = X509RevocationMode.NoCheck;
                return certificate is not null && chain.Build(certificate);
            },
        };
    }

    [Fact]
    public async Task Discovery_NamesTheEndpoints_UnderTheIssuer()
    {
        var discovery = JsonNode.Parse(await _http.GetStringAsync(new Uri(_oidc.Issuer + "/.well-known/openid-configuration"), Ct))!;

        discovery["issuer"]!.GetValue<string>().Should().Be(_oidc.Issuer);
        _oidc.Issuer.Should().StartWith("https://127.0.0.1:");
        foreach (var endpoint in new[] { "authorization_endpoint", "token_endpoint", "userinfo_endpoint", "jwks_uri", "end_session_endpoint" })
        {
            discovery[endpoint]!.GetValue<string>().Should().StartWith(_oidc.Issuer + "/", endpoint);
        }

        discovery["code_challenge_methods_supported"]!.AsArray().Select(n => n!.GetValue<string>()).Should().Equal("S256");
        discovery["id_token_signing_alg_values_supported"]!.AsArray().Select(n => n!.GetValue<string>()).Should().Equal("RS256");
    }

    [Fact]
    public async Task CodeFlowWithPkce_IssuesAnIdTokenSignedByTheJwksKey_WithTheUsersClaimsAndTheNonce()
    {
        var verifier = NewVerifier();
        var (code, state) = await SignInAsync(Alice.Subject, Challenge(verifier), "form_post", nonce: "n-0S6_WzA2Mj", state: "st-1");
        state.Should().Be("st-1");

        using var response = await ExchangeAsync(code, verifier);
        var body = JsonNode.Parse(await response.Content.ReadAsStringAsync(Ct))!;
        response.StatusCode.Should().Be(HttpStatusCode.OK, body.ToJsonString());
        response.Headers.CacheControl!.NoStore.Should().BeTrue();
        body["token_type"]!.GetValue<string>().Should().Be("Bearer");

        var idToken = body["id_token"]!.GetValue<string>();
        var claims = await VerifiedClaimsAsync(idToken);
        claims["iss"]!.GetValue<string>().Should().Be(_oidc.Issuer);
        claims["aud"]!.GetValue<string>().Should().Be(ClientId);
        claims["sub"]!.GetValue<string>().Should().Be("u-alice");
        claims["nonce"]!.GetValue<string>().Should().Be("n-0S6_WzA2Mj");
        claims["name"]!.GetValue<string>().Should().Be("Alice Approver");
        claims["preferred_username"]!.GetValue<string>().Should().Be("alice@corp.example.com");
        claims["groups"]!.AsArray().Select(n => n!.GetValue<string>()).Should().Equal("respond-approvers");
        claims["roles"]!.AsArray().Select(n => n!.GetValue<string>()).Should().Equal("Console.Approver");
        claims["exp"]!.GetValue<long>().Should().BeGreaterThan(claims["iat"]!.GetValue<long>());

        using var userInfo = new HttpRequestMessage(HttpMethod.Get, _oidc.Issuer + "/userinfo");
        userInfo.Headers.Authorization = new AuthenticationHeaderValue("Bearer", body["access_token"]!.GetValue<string>());
        using var info = await _http.SendAsync(userInfo, Ct);
        JsonNode.Parse(await info.Content.ReadAsStringAsync(Ct))!["preferred_username"]!.GetValue<string>().Should().Be("alice@corp.example.com");
    }

    [Fact]
    public async Task QueryResponseMode_RedirectsWithTheCode_AndAUserWithoutGroupsGetsNoGroupsClaim()
    {
        var verifier = NewVerifier();
        var (code, _) = await SignInAsync("u-vic", Challenge(verifier), "query", nonce: "n2", state: "s2");
        using var response = await ExchangeAsync(code, verifier);
        var claims = await VerifiedClaimsAsync(JsonNode.Parse(await response.Content.ReadAsStringAsync(Ct))!["id_token"]!.GetValue<string>());
        claims["preferred_username"]!.GetValue<string>().Should().Be("vic@corp.example.com");
        claims.ContainsKey("groups").Should().BeFalse();
        claims.ContainsKey("roles").Should().BeFalse();
    }

    [Fact]
    public async Task ACode_IsSingleUse_BoundToItsVerifierAndRedirect_AndTheClientMustAuthenticate()
    {
        var verifier = NewVerifier();
        var (code, _) = await SignInAsync(Alice.Subject, Challenge(verifier), "query", "n", "s");
        using (var wrongSecret = await ExchangeAsync(code, verifier, secret: "not-the-secret"))
        {
            wrongSecret.StatusCode.Should().Be(HttpStatusCode.Unauthorized);
            (await ErrorOf(wrongSecret)).Should().Be("invalid_client");
        }

        using (var wrongVerifier = await ExchangeAsync(code, NewVerifier()))
        {
            (await ErrorOf(wrongVerifier)).Should().Be("invalid_grant");
        }

        // The failed exchange used the code up: the right verifier no longer helps (a code is never exchanged twice).
        using (var again = await ExchangeAsync(code, verifier)) (await ErrorOf(again)).Should().Be("invalid_grant");

        var (code2, _) = await SignInAsync(Alice.Subject, Challenge(verifier), "query", "n", "s");
        using (var otherRedirect = await ExchangeAsync(code2, verifier, redirect: "http://127.0.0.1:5999/elsewhere"))
        {
            (await ErrorOf(otherRedirect)).Should().Be("invalid_grant");
        }

        var (code3, _) = await SignInAsync(Alice.Subject, Challenge(verifier), "query", "n", "s");
        using (var ok = await ExchangeAsync(code3, verifier)) ok.StatusCode.Should().Be(HttpStatusCode.OK);
        using (var replay = await ExchangeAsync(code3, verifier)) (await ErrorOf(replay)).Should().Be("invalid_grant");
    }

    [Fact]
    public async Task AnUnregisteredRedirect_IsAnErrorPage_NeverARedirect_AndMissingPkceIsSentBackAsAnError()
    {
        using var bad = await _http.GetAsync(AuthorizeUrl("https://evil.example/cb", Challenge(NewVerifier()), "query", "n", "s"), Ct);
        bad.StatusCode.Should().Be(HttpStatusCode.BadRequest);
        bad.Headers.Location.Should().BeNull();
        (await bad.Content.ReadAsStringAsync(Ct)).Should().Contain("is not registered").And.Contain("https://evil.example/cb");

        using var noPkce = await _http.GetAsync(AuthorizeUrl(Callback.AbsoluteUri, challenge: null, "query", "n", "s"), Ct);
        noPkce.StatusCode.Should().Be(HttpStatusCode.Found);
        var query = ParseQuery(noPkce.Headers.Location!);
        query["error"].Should().Be("invalid_request");
        query["state"].Should().Be("s");
    }

    [Fact]
    public async Task TheSignInPage_EscapesWhatTheRequestCarries_AndCancelIsAccessDenied()
    {
        var page = await _http.GetStringAsync(AuthorizeUrl(Callback.AbsoluteUri, Challenge(NewVerifier()), "query", "n", "\"><script>alert(1)</script>"), Ct);
        page.Should().NotContain("<script>alert(1)</script>").And.Contain("&lt;script&gt;");
        page.Should().Contain("Sign in as Alice Approver (alice@corp.example.com)");

        var fields = Fields(page);
        fields["user"] = "";
        using var cancel = await _http.PostAsync(new Uri(_oidc.Issuer + "/authorize"), new FormUrlEncodedContent(fields), Ct);
        ParseQuery(cancel.Headers.Location!)["error"].Should().Be("access_denied");
    }

    [Fact]
    public async Task Logout_RedirectsToARegisteredUri_WithTheState_AndRecordsTheSubject()
    {
        var verifier = NewVerifier();
        var (code, _) = await SignInAsync(Alice.Subject, Challenge(verifier), "query", "n", "s");
        using var tokens = await ExchangeAsync(code, verifier);
        var idToken = JsonNode.Parse(await tokens.Content.ReadAsStringAsync(Ct))!["id_token"]!.GetValue<string>();

        using var logout = await _http.GetAsync(new Uri($"{_oidc.Issuer}/logout?id_token_hint={idToken}&post_logout_redirect_uri={Uri.EscapeDataString("http://127.0.0.1:4321/signed-out")}&state=bye"), Ct);
        logout.StatusCode.Should().Be(HttpStatusCode.Found);
        logout.Headers.Location!.AbsoluteUri.Should().Be("http://127.0.0.1:4321/signed-out?state=bye");
        _oidc.SignedOut.Should().Equal("u-alice");

        using var elsewhere = await _http.GetAsync(new Uri($"{_oidc.Issuer}/logout?post_logout_redirect_uri={Uri.EscapeDataString("https://evil.example/")}"), Ct);
        elsewhere.StatusCode.Should().Be(HttpStatusCode.BadRequest);
    }

    private Uri AuthorizeUrl(string redirect, string? challenge, string responseMode, string nonce, string state)
    {
        var query = new Dictionary<string, string>
        {
            ["client_id"] = ClientId, ["redirect_uri"] = redirect, ["response_type"] = "code", ["scope"] = "openid profile",
            ["response_mode"] = responseMode, ["nonce"] = nonce, ["state"] = state,
        };
        if (challenge is not null)
        {
            query["code_challenge"] = challenge;
            query["code_challenge_method"] = "S256";
        }

        return new Uri(_oidc.Issuer + "/authorize?" + string.Join('&', query.Select(p => p.Key + "=" + Uri.EscapeDataString(p.Value))));
    }

    /// <summary>Opens the sign-in page, presses the user's button, and reads the code and state the client receives.</summary>
    private async Task<(string Code, string State)> SignInAsync(string subject, string challenge, string responseMode, string nonce, string state)
    {
        var page = await _http.GetStringAsync(AuthorizeUrl(Callback.AbsoluteUri, challenge, responseMode, nonce, state), Ct);
        var fields = Fields(page);
        fields["user"] = subject;
        using var answer = await _http.PostAsync(new Uri(_oidc.Issuer + "/authorize"), new FormUrlEncodedContent(fields), Ct);
        if (responseMode == "query")
        {
            answer.StatusCode.Should().Be(HttpStatusCode.Found);
            answer.Headers.Location!.GetLeftPart(UriPartial.Path).Should().Be(Callback.AbsoluteUri);
            var query = ParseQuery(answer.Headers.Location!);
            query["iss"].Should().Be(_oidc.Issuer);
            return (query["code"], query["state"]);
        }

        var post = await answer.Content.ReadAsStringAsync(Ct);
        post.Should().Contain($"action=\"{Callback.AbsoluteUri}\"");
        var posted = Fields(post);
        return (posted["code"], posted["state"]);
    }

    private async Task<HttpResponseMessage> ExchangeAsync(string code, string verifier, string secret = Secret, string? redirect = null)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, _oidc.Issuer + "/token")
        {
            Content = new FormUrlEncodedContent(new Dictionary<string, string>
            {
                ["grant_type"] = "authorization_code", ["code"] = code, ["redirect_uri"] = redirect ?? Callback.AbsoluteUri, ["code_verifier"] = verifier,
            }),
        };
        request.Headers.Authorization = new AuthenticationHeaderValue("Basic", Convert.ToBase64String(Encoding.UTF8.GetBytes($"{ClientId}:{secret}")));
        return await _http.SendAsync(request, Ct);
    }

    private async Task<JsonObject> VerifiedClaimsAsync(string idToken)
    {
        var parts = idToken.Split('.');
        parts.Should().HaveCount(3);
        var header = JsonNode.Parse(FromBase64Url(parts[0]))!;
        header["alg"]!.GetValue<string>().Should().Be("RS256");
        var jwks = JsonNode.Parse(await _http.GetStringAsync(new Uri(_oidc.Issuer + "/jwks"), Ct))!["keys"]!.AsArray();
        var jwk = jwks.Single(k => k!["kid"]!.GetValue<string>() == header["kid"]!.GetValue<string>())!;
        using var rsa = RSA.Create(new RSAParameters { Modulus = FromBase64Url(jwk["n"]!.GetValue<string>()), Exponent = FromBase64Url(jwk["e"]!.GetValue<string>()) });
        rsa.VerifyData(Encoding.ASCII.GetBytes(parts[0] + "." + parts[1]), FromBase64Url(parts[2]), HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1)
            .Should().BeTrue("the id_token is signed with the key the JWKS publishes");
        var tampered = Encoding.ASCII.GetBytes(parts[0] + "." + parts[1] + "x");
        rsa.VerifyData(tampered, FromBase64Url(parts[2]), HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1).Should().BeFalse();
        return JsonNode.Parse(FromBase64Url(parts[1]))!.AsObject();
    }

    private static async Task<string> ErrorOf(HttpResponseMessage response) =>
        JsonNode.Parse(await response.Content.ReadAsStringAsync(Ct))!["error"]!.GetValue<string>();

    internal static Dictionary<string, string> Fields(string html) =>
        HiddenInput().Matches(html).ToDictionary(m => WebUtility.HtmlDecode(m.Groups["name"].Value), m => WebUtility.HtmlDecode(m.Groups["value"].Value));

    private static Dictionary<string, string> ParseQuery(Uri uri) =>
        uri.Query.TrimStart('?').Split('&', StringSplitOptions.RemoveEmptyEntries)
            .Select(p => p.Split('=', 2))
            .ToDictionary(p => Uri.UnescapeDataString(p[0]), p => Uri.UnescapeDataString(p.Length > 1 ? p[1] : ""));

    private static string NewVerifier() => Base64Url(RandomNumberGenerator.GetBytes(32));

    private static string Challenge(string verifier) => Base64Url(SHA256.HashData(Encoding.ASCII.GetBytes(verifier)));

    private static string Base64Url(byte[] bytes) => Convert.ToBase64String(bytes).TrimEnd('=').Replace('+', '-').Replace('/', '_');

    private static byte[] FromBase64Url(string text)
    {
        var padded = text.Replace('-', '+').Replace('_', '/');
        return Convert.FromBase64String(padded + new string('=', (4 - (padded.Length % 4)) % 4));
    }

    [GeneratedRegex("<input type=\"hidden\" name=\"(?<name>[^\"]*)\" value=\"(?<value>[^\"]*)\">")]
    private static partial Regex HiddenInput();
}
