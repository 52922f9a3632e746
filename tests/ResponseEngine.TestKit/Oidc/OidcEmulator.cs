using System.Globalization;
using System.Net;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Primitives;

namespace ResponseEngine.TestKit.Oidc;

/// <summary>
/// An OpenID Connect provider on loopback for the console's sign-in (OpenID Connect Core 1.0, authorization code flow;
/// Discovery 1.0; RFC 7636 PKCE; RP-Initiated Logout 1.0), enough for ASP.NET Core's OpenIdConnect handler in another
/// process: <c>/.well-known/openid-configuration</c>, <c>/jwks</c> (one RS256 key), <c>/authorize</c> (a small sign-in
/// page with one button per <see cref="AddUser">test user</see>, answering the client with a code by query redirect or
/// form_post), <c>/token</c> (client_secret_basic or client_secret_post, code single-use and bound to the client, the
/// redirect URI and the PKCE verifier; an RS256 id_token with the user's name, preferred_username, email, groups and
/// roles and the request's nonce), <c>/userinfo</c> and <c>/logout</c>. Served over HTTPS with a throwaway CA
/// (<see cref="CaFile"/>, trusted by a child process through <c>SSL_CERT_FILE</c>) or over plain HTTP.
/// </summary>
public sealed class OidcEmulator : IAsyncDisposable
{
    private readonly Lock _lock = new();
    private readonly TimeProvider _time;
    private readonly RSA _key = RSA.Create(2048);
    private readonly string _keyId = Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(8));
    private readonly Dictionary<string, OidcClient> _clients = new(StringComparer.Ordinal);
    private readonly Dictionary<string, OidcUser> _users = new(StringComparer.Ordinal);
    private readonly Dictionary<string, IssuedCode> _codes = new(StringComparer.Ordinal);
    private readonly Dictionary<string, (OidcUser User, DateTimeOffset Expires)> _accessTokens = new(StringComparer.Ordinal);
    private readonly List<OidcRequest> _requests = [];
    private readonly List<string> _signedOut = [];
    private readonly string _folder;
    private WebApplication? _app;

    private OidcEmulator(TimeProvider time, string folder)
    {
        _time = time;
        _folder = folder;
    }

    /// <summary>The issuer and authority to configure, e.g. https://127.0.0.1:41235 (no trailing slash, as in the tokens' iss).</summary>
    public string Issuer { get; private set; } = null!;

    /// <summary>The throwaway CA certificate (PEM) the HTTPS server certificate chains to; absent when served over HTTP.</summary>
    public string CaFile => Path.Combine(_folder, "oidc-ca.pem");

    /// <summary>How long an authorization code may wait for its exchange (the spec recommends at most 10 minutes).</summary>
    public TimeSpan CodeLifetime { get; set; } = TimeSpan.FromMinutes(1);

    /// <summary>How long an id_token and an access token live.</summary>
    public TimeSpan TokenLifetime { get; set; } = TimeSpan.FromMinutes(60);

    /// <summary>Whether /authorize refuses a request without an S256 code_challenge (as OAuth 2.0 Security BCP asks); true by default.</summary>
    public bool RequirePkce { get; set; } = true;

    /// <summary>Every call so far (a copy), in order of arrival.</summary>
    public IReadOnlyList<OidcRequest> Requests
    {
        get
        {
            lock (_lock) return [.. _requests];
        }
    }

    /// <summary>The subjects signed out through /logout so far, in order.</summary>
    public IReadOnlyList<string> SignedOut
    {
        get
        {
            lock (_lock) return [.. _signedOut];
        }
    }

    /// <summary>Starts the provider on 127.0.0.1 with an ephemeral port, over HTTPS (a fresh CA) unless <paramref name="https"/> is false.</summary>
    public static async Task<OidcEmulator> StartAsync(TimeProvider time, bool https = true, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(time);
        var folder = Path.Combine(Path.GetTempPath(), "respond-oidc-" + Guid.NewGuid().ToString("N")[..10]);
        Directory.CreateDirectory(folder);
        var emulator = new OidcEmulator(time, folder);
        var certificate = https ? LoopbackCertificates.Issue(time, emulator.CaFile, "ResponseEngine test OIDC CA") : null;
        var (app, address) = await LoopbackServer.StartAsync(emulator.HandleAsync, certificate, cancellationToken).ConfigureAwait(false);
        emulator._app = app;
        emulator.Issuer = address;
        return emulator;
    }

    /// <summary>
    /// Registers a client (an app registration). A redirect URI must then match one registered exactly, except that an
    /// http://127.0.0.1 or http://[::1] URI matches any port (RFC 8252 §7.3), so a test may register one before its
    /// server has chosen a port. No secret makes a public client (token_endpoint_auth_method none).
    /// </summary>
    public void RegisterClient(string clientId, string? clientSecret, IEnumerable<Uri> redirectUris, IEnumerable<Uri>? postLogoutRedirectUris = null)
    {
        lock (_lock) _clients[clientId] = new OidcClient(clientId, clientSecret, [.. redirectUris], [.. postLogoutRedirectUris ?? []]);
    }

    /// <summary>Adds (or replaces) a user the sign-in page offers, with the claims its id_token carries.</summary>
    public void AddUser(OidcUser user)
    {
        ArgumentNullException.ThrowIfNull(user);
        lock (_lock) _users[user.Subject] = user;
    }

    public async ValueTask DisposeAsync()
    {
        if (_app is not null)
        {
            await _app.StopAsync(CancellationToken.None).ConfigureAwait(false);
            await _app.DisposeAsync().ConfigureAwait(false);
        }

        _key.Dispose();
        try
        {
            Directory.Delete(_folder, recursive: true);
        }
        catch (IOException)
        {
            // A leftover temporary folder holds only a public test certificate.
        }
    }

    private async Task HandleAsync(HttpContext context)
    {
        var request = context.Request;
        IFormCollection? form = null;
        if (HttpMethods.IsPost(request.Method) && request.HasFormContentType)
        {
            form = await request.ReadFormAsync(context.RequestAborted).ConfigureAwait(false);
        }

        string Param(string name) => form is not null && form.TryGetValue(name, out var f) ? f.ToString() : request.Query[name].ToString();

        Answer answer;
        lock (_lock)
        {
            var get = HttpMethods.IsGet(request.Method);
            var post = HttpMethods.IsPost(request.Method);
            answer = request.Path.Value switch
            {
                "/.well-known/openid-configuration" when get => Json(200, Discovery()),
                "/jwks" when get => Json(200, Jwks()),
                "/authorize" when get => Authorize(Param, chosen: null),
                "/authorize" when post => Authorize(Param, chosen: Param("user")),
                "/token" when post => Token(Param, request.Headers.Authorization),
                "/userinfo" when get || post => UserInfo(request.Headers.Authorization),
                "/logout" when get || post => Logout(Param),
                _ => Json(404, OAuthError("invalid_request", $"'{request.Method} {request.Path}' is not an endpoint of this OpenID Connect provider emulator.")),
            };
            _requests.Add(new OidcRequest(_time.GetUtcNow(), request.Method, request.Path.Value ?? "/", Param("client_id"), answer.Status));
        }

        context.Response.StatusCode = answer.Status;
        context.Response.Headers.CacheControl = "no-store";
        if (answer.Location is not null)
        {
            context.Response.Headers.Location = answer.Location;
            return;
        }

        context.Response.ContentType = answer.ContentType;
        await context.Response.WriteAsync(answer.Body, context.RequestAborted).ConfigureAwait(false);
    }

    private JsonObject Discovery() => new()
    {
        ["issuer"] = Issuer,
        ["authorization_endpoint"] = Issuer + "/authorize",
        ["token_endpoint"] = Issuer + "/token",
        ["userinfo_endpoint"] = Issuer + "/userinfo",
        ["jwks_uri"] = Issuer + "/jwks",
        ["end_session_endpoint"] = Issuer + "/logout",
        ["response_types_supported"] = new JsonArray("code"),
        ["response_modes_supported"] = new JsonArray("query", "form_post"),
        ["grant_types_supported"] = new JsonArray("authorization_code"),
        ["subject_types_supported"] = new JsonArray("public"),
        ["id_token_signing_alg_values_supported"] = new JsonArray("RS256"),
        ["scopes_supported"] = new JsonArray("openid", "profile", "email"),
        ["token_endpoint_auth_methods_supported"] = new JsonArray("client_secret_basic", "client_secret_post", "none"),
        ["code_challenge_methods_supported"] = new JsonArray("S256"),
        ["claims_supported"] = new JsonArray("iss", "sub", "aud", "exp", "iat", "auth_time", "nonce", "name", "preferred_username", "email", "groups", "roles"),
    };

    private JsonObject Jwks()
    {
        var parameters = _key.ExportParameters(includePrivateParameters: false);
        return new JsonObject
        {
            ["keys"] = new JsonArray(new JsonObject
            {
                ["kty"] = "RSA",
                ["use"] = "sig",
                ["alg"] = "RS256",
                ["kid"] = _keyId,
                ["n"] = Base64Url(parameters.Modulus!),
                ["e"] = Base64Url(parameters.Exponent!),
            }),
        };
    }

    /// <summary>GET shows the sign-in page; POST with <c>user</c> (a subject, or empty for "cancel") answers the client.</summary>
    private Answer Authorize(Func<string, string> param, string? chosen)
    {
        // Until the client and its redirect URI are known good, errors are shown here, never sent anywhere (Core §3.1.2.6).
        var clientId = param("client_id");
        if (!_clients.TryGetValue(clientId, out var client))
        {
            return Page(400, "Sign-in error", $"<p role=\"alert\">Unknown client_id '{Html(clientId)}'.</p>");
        }

        var redirect = param("redirect_uri");
        if (!Uri.TryCreate(redirect, UriKind.Absolute, out var redirectUri) || !client.RedirectUris.Any(r => RedirectMatches(r, redirectUri)))
        {
            return Page(400, "Sign-in error", $"<p role=\"alert\">redirect_uri '{Html(redirect)}' is not registered for client '{Html(clientId)}'.</p>");
        }

        var state = param("state");
        var responseMode = param("response_mode") is { Length: > 0 } mode ? mode : "query";
        if (responseMode is not ("query" or "form_post"))
        {
            return Page(400, "Sign-in error", $"<p role=\"alert\">response_mode '{Html(responseMode)}' is not supported (query, form_post).</p>");
        }

        Answer Fail(string error, string description) =>
            Respond(redirectUri, responseMode, [("error", error), ("error_description", description), ("state", state), ("iss", Issuer)]);

        if (param("response_type") != "code") return Fail("unsupported_response_type", "only response_type=code is supported");
        if (!param("scope").Split(' ', StringSplitOptions.RemoveEmptyEntries).Contains("openid")) return Fail("invalid_scope", "the scope must include openid");
        var challenge = param("code_challenge");
        var method = param("code_challenge_method");
        if (challenge.Length > 0 && method != "S256") return Fail("invalid_request", "code_challenge_method must be S256");
        if (challenge.Length == 0 && RequirePkce) return Fail("invalid_request", "PKCE is required: send code_challenge with code_challenge_method=S256");

        if (chosen is null) return SignInPage(param);
        if (chosen.Length == 0) return Fail("access_denied", "the user cancelled the sign-in");
        if (!_users.TryGetValue(chosen, out var user)) return Page(400, "Sign-in error", $"<p role=\"alert\">No user '{Html(chosen)}'.</p>");

        var code = Base64Url(RandomNumberGenerator.GetBytes(32));
        var now = _time.GetUtcNow();
        _codes[code] = new IssuedCode(clientId, redirect, user, param("nonce"), challenge, param("scope"), now, now + CodeLifetime);
        return Respond(redirectUri, responseMode, [("code", code), ("state", state), ("iss", Issuer)]);
    }

    private Answer SignInPage(Func<string, string> param)
    {
        var hidden = new StringBuilder();
        foreach (var name in new[] { "client_id", "redirect_uri", "response_type", "response_mode", "scope", "state", "nonce", "code_challenge", "code_challenge_method" })
        {
            var value = param(name);
            if (value.Length > 0) hidden.Append(CultureInfo.InvariantCulture, $"<input type=\"hidden\" name=\"{name}\" value=\"{Html(value)}\">");
        }

        var buttons = new StringBuilder();
        foreach (var user in _users.Values.OrderBy(u => u.PreferredUsername, StringComparer.Ordinal))
        {
            buttons.Append(CultureInfo.InvariantCulture, $"<li><button type=\"submit\" name=\"user\" value=\"{Html(user.Subject)}\">Sign in as {Html(user.Name)} ({Html(user.PreferredUsername)})</button></li>");
        }

        return Page(200, "Sign in", $"""
            <h1>Sign in to {Html(param("client_id"))}</h1>
            <form method="post" action="/authorize">{hidden}
            <ul>{buttons}</ul>
            <button type="submit" name="user" value="">Cancel</button>
            </form>
            """);
    }

    private Answer Token(Func<string, string> param, StringValues authorization)
    {
        var (clientId, secret) = ClientCredentials(param, authorization);
        if (clientId is null || !_clients.TryGetValue(clientId, out var client))
        {
            return Json(401, OAuthError("invalid_client", "unknown client"));
        }

        if (client.Secret is not null && (secret is null
            || !CryptographicOperations.FixedTimeEquals(Encoding.UTF8.GetBytes(secret), Encoding.UTF8.GetBytes(client.Secret))))
        {
            return Json(401, OAuthError("invalid_client", "client authentication failed"));
        }

        if (param("grant_type") != "authorization_code") return Json(400, OAuthError("unsupported_grant_type", "only authorization_code is supported"));
        var code = param("code");
        if (!_codes.Remove(code, out var issued)) return Json(400, OAuthError("invalid_grant", "the code is unknown or was already used"));
        if (issued.ClientId != clientId) return Json(400, OAuthError("invalid_grant", "the code was issued to another client"));
        if (issued.RedirectUri != param("redirect_uri")) return Json(400, OAuthError("invalid_grant", "redirect_uri differs from the authorization request's"));
        var now = _time.GetUtcNow();
        if (issued.Expires <= now) return Json(400, OAuthError("invalid_grant", "the code has expired"));
        if (issued.CodeChallenge.Length > 0)
        {
            var verifier = param("code_verifier");
            var computed = Base64Url(SHA256.HashData(Encoding.ASCII.GetBytes(verifier)));
            if (verifier.Length == 0 || computed != issued.CodeChallenge) return Json(400, OAuthError("invalid_grant", "the code_verifier does not match the code_challenge"));
        }

        var accessToken = Base64Url(RandomNumberGenerator.GetBytes(32));
        _accessTokens[accessToken] = (issued.User, now + TokenLifetime);
        var claims = UserClaims(issued.User);
        claims["iss"] = Issuer;
        claims["aud"] = clientId;
        claims["iat"] = now.ToUnixTimeSeconds();
        claims["nbf"] = now.ToUnixTimeSeconds();
        claims["exp"] = (now + TokenLifetime).ToUnixTimeSeconds();
        claims["auth_time"] = issued.AuthenticatedAt.ToUnixTimeSeconds();
        if (issued.Nonce.Length > 0) claims["nonce"] = issued.Nonce;
        claims["at_hash"] = Base64Url(SHA256.HashData(Encoding.ASCII.GetBytes(accessToken))[..16]);
        return Json(200, new JsonObject
        {
            ["access_token"] = accessToken,
            ["token_type"] = "Bearer",
            ["expires_in"] = (int)TokenLifetime.TotalSeconds,
            ["scope"] = issued.Scope,
            ["id_token"] = Sign(claims),
        });
    }

    private Answer UserInfo(StringValues authorization)
    {
        var value = authorization.ToString();
        if (!value.StartsWith("Bearer ", StringComparison.OrdinalIgnoreCase)
            || !_accessTokens.TryGetValue(value["Bearer ".Length..].Trim(), out var token) || token.Expires <= _time.GetUtcNow())
        {
            return new Answer(401, "", "text/plain", null);
        }

        return Json(200, UserClaims(token.User));
    }

    private Answer Logout(Func<string, string> param)
    {
        var hint = param("id_token_hint");
        if (hint.Length > 0 && SubjectOf(hint) is { } subject) _signedOut.Add(subject);
        var target = param("post_logout_redirect_uri");
        if (target.Length == 0) return Page(200, "Signed out", "<p>You are signed out.</p>");
        if (!Uri.TryCreate(target, UriKind.Absolute, out var targetUri)
            || !_clients.Values.Any(c => c.PostLogoutRedirectUris.Any(r => RedirectMatches(r, targetUri))))
        {
            return Page(400, "Sign-out error", $"<p role=\"alert\">post_logout_redirect_uri '{Html(target)}' is not registered.</p>");
        }

        var state = param("state");
        return new Answer(302, "", "text/plain", state.Length == 0 ? target : AppendQuery(targetUri, [("state", state)]));
    }

    /// <summary>The subject of an id_token issued here (its signature checked), or null.</summary>
    private string? SubjectOf(string idToken)
    {
        var parts = idToken.Split('.');
        if (parts.Length != 3) return null;
        try
        {
            var signed = Encoding.ASCII.GetBytes(parts[0] + "." + parts[1]);
            if (!_key.VerifyData(signed, FromBase64Url(parts[2]), HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1)) return null;
            return JsonNode.Parse(FromBase64Url(parts[1]))?["sub"]?.GetValue<string>();
        }
        catch (FormatException)
        {
            return null;
        }
    }

    private static (string? ClientId, string? Secret) ClientCredentials(Func<string, string> param, StringValues authorization)
    {
        var header = authorization.ToString();
        if (header.StartsWith("Basic ", StringComparison.OrdinalIgnoreCase))
        {
            try
            {
                var decoded = Encoding.UTF8.GetString(Convert.FromBase64String(header["Basic ".Length..].Trim()));
                var colon = decoded.IndexOf(':', StringComparison.Ordinal);
                if (colon < 0) return (null, null);

                // RFC 6749 §2.3.1: both parts are form-urlencoded before they are joined.
                return (WebUtility.UrlDecode(decoded[..colon]), WebUtility.UrlDecode(decoded[(colon + 1)..]));
            }
            catch (FormatException)
            {
                return (null, null);
            }
        }

        var clientId = param("client_id");
        var secret = param("client_secret");
        return (clientId.Length == 0 ? null : clientId, secret.Length == 0 ? null : secret);
    }

    private static JsonObject UserClaims(OidcUser user)
    {
        var claims = new JsonObject
        {
            ["sub"] = user.Subject,
            ["name"] = user.Name,
            ["preferred_username"] = user.PreferredUsername,
        };
        if (user.Email is not null) claims["email"] = user.Email;
        if (user.Groups is { Count: > 0 }) claims["groups"] = new JsonArray([.. user.Groups.Select(g => (JsonNode)g)]);
        if (user.Roles is { Count: > 0 }) claims["roles"] = new JsonArray([.. user.Roles.Select(r => (JsonNode)r)]);
        return claims;
    }

    private string Sign(JsonObject claims)
    {
        var header = new JsonObject { ["alg"] = "RS256", ["kid"] = _keyId, ["typ"] = "JWT" };
        var signed = Base64Url(Encoding.UTF8.GetBytes(header.ToJsonString())) + "." + Base64Url(Encoding.UTF8.GetBytes(claims.ToJsonString()));
        var signature = _key.SignData(Encoding.ASCII.GetBytes(signed), HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1);
        return signed + "." + Base64Url(signature);
    }

    /// <summary>Exact match, or a loopback http URI on any port (RFC 8252 §7.3).</summary>
    private static bool RedirectMatches(Uri registered, Uri requested)
    {
        if (Uri.Compare(registered, requested, UriComponents.AbsoluteUri, UriFormat.UriEscaped, StringComparison.Ordinal) == 0) return true;
        return registered.Scheme == Uri.UriSchemeHttp && requested.Scheme == Uri.UriSchemeHttp
            && registered.IsLoopback && registered.HostNameType is UriHostNameType.IPv4 or UriHostNameType.IPv6
            && registered.Host == requested.Host
            && registered.PathAndQuery == requested.PathAndQuery;
    }

    private static Answer Respond(Uri redirectUri, string responseMode, (string Name, string Value)[] parameters)
    {
        var present = parameters.Where(p => p.Value.Length > 0).ToArray();
        if (responseMode == "query") return new Answer(302, "", "text/plain", AppendQuery(redirectUri, present));

        // OAuth 2.0 Form Post Response Mode: a page that posts the parameters to the redirect URI as soon as it loads.
        var fields = string.Concat(present.Select(p => $"<input type=\"hidden\" name=\"{Html(p.Name)}\" value=\"{Html(p.Value)}\">"));
        return Page(200, "Signing in", $"""
            <form method="post" action="{Html(redirectUri.AbsoluteUri)}">{fields}<noscript><button type="submit">Continue</button></noscript></form>
            <script>document.forms[0].submit();</script>
            """);
    }

    private static string AppendQuery(Uri uri, IEnumerable<(string Name, string Value)> parameters)
    {
        var query = string.Join('&', parameters.Select(p => Uri.EscapeDataString(p.Name) + "=" + Uri.EscapeDataString(p.Value)));
        var separator = string.IsNullOrEmpty(uri.Query) ? "?" : "&";
        return uri.AbsoluteUri + separator + query;
    }

    private static Answer Page(int status, string title, string body) =>
        new(status, $"<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\"><title>{Html(title)}</title></head><body>{body}</body></html>", "text/html; charset=utf-8", null);

    private static Answer Json(int status, JsonObject body) => new(status, body.ToJsonString(), "application/json; charset=utf-8", null);

    private static JsonObject OAuthError(string error, string description) => new() { ["error"] = error, ["error_description"] = description };

    private static string Html(string text) => WebUtility.HtmlEncode(text);

    private static string Base64Url(byte[] bytes) => Convert.ToBase64String(bytes).TrimEnd('=').Replace('+', '-').Replace('/', '_');

    private static byte[] FromBase64Url(string text)
    {
        var padded = text.Replace('-', '+').Replace('_', '/');
        return Convert.FromBase64String(padded + new string('=', (4 - (padded.Length % 4)) % 4));
    }

    private sealed record Answer(int Status, string Body, string ContentType, string? Location);

    private sealed record OidcClient(string Id, string? Secret, IReadOnlyList<Uri> RedirectUris, IReadOnlyList<Uri> PostLogoutRedirectUris);

    private sealed record IssuedCode(string ClientId, string RedirectUri, OidcUser User, string Nonce, string CodeChallenge, string Scope, DateTimeOffset AuthenticatedAt, DateTimeOffset Expires);
}

/// <summary>A person the emulator signs in, with the claims of their id_token (groups and roles are omitted when empty).</summary>
public sealed record OidcUser(string Subject, string Name, string PreferredUsername, IReadOnlyList<string>? Groups = null, IReadOnlyList<string>? Roles = null, string? Email = null);

/// <summary>One call to the OIDC emulator: method, path, the client_id it named, the status answered.</summary>
public sealed record OidcRequest(DateTimeOffset At, string Method, string Path, string? ClientId, int Status);
