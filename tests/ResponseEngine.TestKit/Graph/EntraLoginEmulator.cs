using System.Globalization;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;

namespace ResponseEngine.TestKit.Graph;

/// <summary>
/// The Microsoft identity platform's v2.0 endpoints for app-only sign-in (login.microsoftonline.com's part in a client
/// credentials grant) served over HTTPS on loopback, so that Azure.Identity in another process really signs in: the
/// token endpoint <c>/{tenant}/oauth2/v2.0/token</c> checks the tenant, the app and its client secret and answers with
/// Entra's token and error shapes (AADSTS codes), and <c>/{tenant}/v2.0/.well-known/openid-configuration</c> describes
/// the tenant. Azure.Identity accepts only an https authority host, so the emulator makes a throwaway CA and a server
/// certificate for 127.0.0.1; a child process trusts it with <c>SSL_CERT_FILE=</c><see cref="CaFile"/> (OpenSSL's
/// variable, which .NET on Linux reads for its root store). <see cref="Accepts"/> lets a <see cref="GraphEmulator"/>
/// take only the tokens issued here.
/// </summary>
public sealed class EntraLoginEmulator : IAsyncDisposable
{
    private readonly Lock _lock = new();
    private readonly TimeProvider _time;
    private readonly Dictionary<(string Tenant, string Client), string> _apps = [];
    private readonly Dictionary<(string Tenant, string Client), string[]> _roles = [];
    private readonly Dictionary<string, (string Audience, DateTimeOffset Expires)> _tokens = new(StringComparer.Ordinal);
    private readonly List<LoginRequest> _requests = [];
    private readonly string _folder;
    private WebApplication? _app;

    private EntraLoginEmulator(TimeProvider time, string folder)
    {
        _time = time;
        _folder = folder;
    }

    /// <summary>The authority host to configure (connectors.entra.authority_host), e.g. https://127.0.0.1:41235/.</summary>
    public Uri AuthorityHost { get; private set; } = null!;

    /// <summary>The throwaway CA certificate (PEM) the server certificate chains to: what a client must trust.</summary>
    public string CaFile => Path.Combine(_folder, "login-ca.pem");

    /// <summary>How long an issued token lives (Entra: about an hour).</summary>
    public TimeSpan TokenLifetime { get; set; } = TimeSpan.FromMinutes(60);

    /// <summary>Every call so far (a copy), in order of arrival.</summary>
    public IReadOnlyList<LoginRequest> Requests
    {
        get
        {
            lock (_lock) return [.. _requests];
        }
    }

    /// <summary>Tokens issued so far.</summary>
    public int Issued
    {
        get
        {
            lock (_lock) return _tokens.Count;
        }
    }

    /// <summary>Starts the endpoints on 127.0.0.1 with an ephemeral port and a fresh CA; no app is registered yet.</summary>
    public static async Task<EntraLoginEmulator> StartAsync(TimeProvider time, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(time);
        var folder = Path.Combine(Path.GetTempPath(), "respond-login-" + Guid.NewGuid().ToString("N")[..10]);
        Directory.CreateDirectory(folder);
        var emulator = new EntraLoginEmulator(time, folder);
        var certificate = emulator.IssueCertificates();
        var (app, address) = await LoopbackServer.StartAsync(emulator.HandleAsync, certificate, cancellationToken).ConfigureAwait(false);
        emulator._app = app;
        emulator.AuthorityHost = new Uri(address + "/");
        return emulator;
    }

    /// <summary>Registers an app in a tenant with a client secret (an app registration with a secret under Certificates &amp; secrets).</summary>
    public void RegisterApp(string tenantId, string clientId, string clientSecret, params string[] roles)
    {
        lock (_lock)
        {
            _apps[(tenantId.ToLowerInvariant(), clientId.ToLowerInvariant())] = clientSecret;
            _roles[(tenantId.ToLowerInvariant(), clientId.ToLowerInvariant())] = roles;
        }
    }

    /// <summary>Whether <paramref name="token"/> was issued here, has not expired, and was issued for a scope on <paramref name="audience"/> (scheme://host:port).</summary>
    public bool Accepts(string token, string audience)
    {
        lock (_lock)
        {
            return _tokens.TryGetValue(token, out var issued)
                && string.Equals(issued.Audience, audience, StringComparison.OrdinalIgnoreCase)
                && issued.Expires > _time.GetUtcNow();
        }
    }

    public async ValueTask DisposeAsync()
    {
        if (_app is not null)
        {
            await _app.StopAsync(CancellationToken.None).ConfigureAwait(false);
            await _app.DisposeAsync().ConfigureAwait(false);
        }

        try
        {
            Directory.Delete(_folder, recursive: true);
        }
        catch (IOException)
        {
            // A leftover temporary folder holds only a public test certificate.
        }
    }

    /// <summary>A CA (written to <see cref="CaFile"/>) and a server certificate for 127.0.0.1 and localhost signed by it.</summary>
    private X509Certificate2 IssueCertificates() => LoopbackCertificates.Issue(_time, CaFile, "ResponseEngine test login CA");

    private async Task HandleAsync(HttpContext context)
    {
        var path = context.Request.Path.Value ?? "/";
        var segments = path.Split('/', StringSplitOptions.RemoveEmptyEntries);
        IFormCollection? form = null;
        if (HttpMethods.IsPost(context.Request.Method) && context.Request.HasFormContentType)
        {
            form = await context.Request.ReadFormAsync(context.RequestAborted).ConfigureAwait(false);
        }

        (int Status, JsonObject Body) answer;
        lock (_lock)
        {
            answer = segments switch
            {
                [var tenant, "oauth2", "v2.0", "token"] when HttpMethods.IsPost(context.Request.Method) => Token(tenant, form),
                [var tenant, "v2.0", ".well-known", "openid-configuration"] when HttpMethods.IsGet(context.Request.Method) => Metadata(tenant),
                _ => (404, Error("invalid_request", 90002, $"The request path '{path}' is not an endpoint of this identity platform emulator.")),
            };
            _requests.Add(new LoginRequest(_time.GetUtcNow(), context.Request.Method, path, form?["client_id"].ToString(), form?["scope"].ToString(), answer.Status));
        }

        context.Response.StatusCode = answer.Status;
        context.Response.ContentType = "application/json; charset=utf-8";
        await context.Response.WriteAsync(answer.Body.ToJsonString(), context.RequestAborted).ConfigureAwait(false);
    }

    private (int, JsonObject) Token(string tenant, IFormCollection? form)
    {
        if (form is null) return (400, Error("invalid_request", 900144, "The request body must contain the following parameter: 'grant_type'."));
        var tenantKey = tenant.ToLowerInvariant();
        if (!_apps.Keys.Any(k => k.Tenant == tenantKey))
        {
            return (400, Error("invalid_tenant", 90002, $"Tenant '{tenant}' not found. Check to make sure you have the correct tenant ID and are signing into the correct cloud."));
        }

        if (form["grant_type"].ToString() != "client_credentials")
        {
            return (400, Error("unsupported_grant_type", 70003, $"The app requested an unsupported grant type '{form["grant_type"]}'."));
        }

        var clientId = form["client_id"].ToString();
        if (!_apps.TryGetValue((tenantKey, clientId.ToLowerInvariant()), out var secret))
        {
            return (400, Error("unauthorized_client", 700016, $"Application with identifier '{clientId}' was not found in the directory '{tenant}'."));
        }

        if (!string.IsNullOrEmpty(form["client_assertion"].ToString()))
        {
            return (401, Error("invalid_client", 700027, "Client assertion failed signature validation: this emulator registers client secrets only."));
        }

        if (!CryptographicOperations.FixedTimeEquals(System.Text.Encoding.UTF8.GetBytes(form["client_secret"].ToString()), System.Text.Encoding.UTF8.GetBytes(secret)))
        {
            return (401, Error("invalid_client", 7000215, $"Invalid client secret provided. Ensure the secret being sent in the request is the client secret value, not the client secret ID, for a secret added to app '{clientId}'."));
        }

        var scope = form["scope"].ToString().Split(' ', StringSplitOptions.RemoveEmptyEntries).FirstOrDefault(s => s.EndsWith("/.default", StringComparison.Ordinal));
        if (scope is null || !Uri.TryCreate(scope[..^"/.default".Length], UriKind.Absolute, out var resource))
        {
            return (400, Error("invalid_scope", 1002012, $"The provided value for scope '{form["scope"]}' is not valid. Client credential flows must have a scope value with /.default suffixed to the resource identifier (application ID URI)."));
        }

        // Shaped as Entra's app-only access tokens are: a JWT whose roles claim lists the consented application
        // permissions (access-token claims reference); signed with nothing, as only this emulator reads the signature.
        var claims = new JsonObject
        {
            ["aud"] = $"{resource.Scheme}://{resource.Authority}",
            ["iss"] = $"https://sts.windows.net/{tenant}/",
            ["tid"] = tenant,
            ["appid"] = clientId,
            ["idtyp"] = "app",
            ["roles"] = new JsonArray([.. _roles.GetValueOrDefault((tenantKey, clientId.ToLowerInvariant()), []).Select(r => (JsonNode)r)]),
            ["jti"] = Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(16)),
        };
        var token = Base64Url("{\"typ\":\"JWT\",\"alg\":\"none\"}") + "." + Base64Url(claims.ToJsonString()) + "." + Base64Url(Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(16)));
        var seconds = (int)TokenLifetime.TotalSeconds;
        _tokens[token] = ($"{resource.Scheme}://{resource.Authority}", _time.GetUtcNow() + TokenLifetime);
        return (200, new JsonObject
        {
            ["token_type"] = "Bearer",
            ["expires_in"] = seconds,
            ["ext_expires_in"] = seconds,
            ["access_token"] = token,
        });
    }

    private static string Base64Url(string text) =>
        Convert.ToBase64String(System.Text.Encoding.UTF8.GetBytes(text)).TrimEnd('=').Replace('+', '-').Replace('/', '_');

    private (int, JsonObject) Metadata(string tenant)
    {
        var root = AuthorityHost.AbsoluteUri.TrimEnd('/') + "/" + tenant;
        return (200, new JsonObject
        {
            ["token_endpoint"] = root + "/oauth2/v2.0/token",
            ["token_endpoint_auth_methods_supported"] = new JsonArray("client_secret_post", "private_key_jwt", "client_secret_basic"),
            ["jwks_uri"] = root + "/discovery/v2.0/keys",
            ["response_modes_supported"] = new JsonArray("query", "fragment", "form_post"),
            ["subject_types_supported"] = new JsonArray("pairwise"),
            ["id_token_signing_alg_values_supported"] = new JsonArray("RS256"),
            ["response_types_supported"] = new JsonArray("code", "id_token", "code id_token", "id_token token"),
            ["scopes_supported"] = new JsonArray("openid", "profile", "email", "offline_access"),
            ["issuer"] = root + "/v2.0",
            ["authorization_endpoint"] = root + "/oauth2/v2.0/authorize",
            ["tenant_region_scope"] = "EU",
        });
    }

    private JsonObject Error(string error, int code, string description)
    {
        var now = _time.GetUtcNow();
        var trace = Guid.NewGuid().ToString();
        return new JsonObject
        {
            ["error"] = error,
            ["error_description"] = $"AADSTS{code}: {description} Trace ID: {trace} Correlation ID: {Guid.NewGuid()} Timestamp: {now.UtcDateTime.ToString("yyyy-MM-dd HH:mm:ss'Z'", CultureInfo.InvariantCulture)}",
            ["error_codes"] = new JsonArray(code),
            ["timestamp"] = now.UtcDateTime.ToString("yyyy-MM-dd HH:mm:ss'Z'", CultureInfo.InvariantCulture),
            ["trace_id"] = trace,
            ["error_uri"] = AuthorityHost is null ? null : new Uri(AuthorityHost, "error?code=" + code.ToString(CultureInfo.InvariantCulture)).AbsoluteUri,
        };
    }
}

/// <summary>One call to the identity platform emulator: what was asked for, by which app, and the status answered.</summary>
public sealed record LoginRequest(DateTimeOffset At, string Method, string Path, string? ClientId, string? Scope, int Status);
