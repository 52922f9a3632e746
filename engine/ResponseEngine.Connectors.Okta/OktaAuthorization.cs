using System.Net;
using System.Net.Http.Headers;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using ResponseEngine.Execution;

namespace ResponseEngine.Connectors.Okta;

/// <summary>Supplies the Authorization header of every management API call.</summary>
internal interface IOktaAuthorization
{
    ValueTask<AuthenticationHeaderValue> HeaderAsync(CancellationToken cancellationToken);

    /// <summary>Drops a cached token Okta has just rejected, so the next call fetches a new one.</summary>
    void Invalidate();
}

/// <summary>An SSWS API token: acts with the admin role of the user who created it.</summary>
internal sealed class ApiTokenAuthorization(string token) : IOktaAuthorization
{
    private readonly AuthenticationHeaderValue _header = new("SSWS", token);

    public ValueTask<AuthenticationHeaderValue> HeaderAsync(CancellationToken cancellationToken) => ValueTask.FromResult(_header);

    public void Invalidate()
    {
    }
}

/// <summary>
/// An OAuth 2.0 service app: client credentials with a private_key_jwt client assertion posted to the org
/// authorization server's /oauth2/v1/token; the access token is cached until shortly before it expires.
/// </summary>
internal sealed class ServiceAppAuthorization : IOktaAuthorization, IDisposable
{
    private static readonly TimeSpan RefreshMargin = TimeSpan.FromMinutes(1);

    private readonly HttpClient _http;
    private readonly OktaOptions _options;
    private readonly TimeProvider _time;
    private readonly RSA _key;
    private readonly SemaphoreSlim _refresh = new(1, 1);
    private (AuthenticationHeaderValue Header, DateTimeOffset Expires)? _token;

    public ServiceAppAuthorization(HttpClient http, OktaOptions options, TimeProvider time)
    {
        _http = http;
        _options = options;
        _time = time;
        _key = RSA.Create();
        try
        {
            _key.ImportFromPem(options.PrivateKeyPem);
        }
        catch (ArgumentException e)
        {
            _key.Dispose();
            throw new ConnectorException("connectors.okta: the service app's private key is not an RSA key in PEM", e);
        }
    }

    public Uri TokenEndpoint => new(_options.BaseUrl, "/oauth2/v1/token");

    public async ValueTask<AuthenticationHeaderValue> HeaderAsync(CancellationToken cancellationToken)
    {
        if (_token is { } cached && _time.GetUtcNow() < cached.Expires - RefreshMargin) return cached.Header;
        await _refresh.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            if (_token is { } again && _time.GetUtcNow() < again.Expires - RefreshMargin) return again.Header;
            var fresh = await RequestTokenAsync(cancellationToken).ConfigureAwait(false);
            _token = fresh;
            return fresh.Header;
        }
        finally
        {
            _refresh.Release();
        }
    }

    public void Invalidate() => _token = null;

    public void Dispose()
    {
        _key.Dispose();
        _refresh.Dispose();
    }

    /// <summary>The signed client assertion: RS256, iss = sub = client id, aud = the token endpoint, five minutes of life.</summary>
    public string ClientAssertion()
    {
        var now = _time.GetUtcNow();
        var header = new Dictionary<string, string> { ["alg"] = "RS256", ["typ"] = "JWT" };
        if (!string.IsNullOrEmpty(_options.KeyId)) header["kid"] = _options.KeyId;
        var claims = new Dictionary<string, object>
        {
            ["iss"] = _options.ClientId!,
            ["sub"] = _options.ClientId!,
            ["aud"] = TokenEndpoint.AbsoluteUri,
            ["iat"] = now.ToUnixTimeSeconds(),
            ["exp"] = now.AddMinutes(5).ToUnixTimeSeconds(),
            ["jti"] = Guid.NewGuid().ToString("N"),
        };
        var signingInput = Base64Url(JsonSerializer.SerializeToUtf8Bytes(header)) + "." + Base64Url(JsonSerializer.SerializeToUtf8Bytes(claims));
        var signature = _key.SignData(Encoding.ASCII.GetBytes(signingInput), HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1);
        return signingInput + "." + Base64Url(signature);
    }

    private async Task<(AuthenticationHeaderValue Header, DateTimeOffset Expires)> RequestTokenAsync(CancellationToken cancellationToken)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, TokenEndpoint)
        {
            Content = new FormUrlEncodedContent(new Dictionary<string, string>
            {
                ["grant_type"] = "client_credentials",
                ["scope"] = string.Join(' ', _options.Scopes),
                ["client_assertion_type"] = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer",
                ["client_assertion"] = ClientAssertion(),
            }),
        };
        request.Headers.Accept.Add(new MediaTypeWithQualityHeaderValue("application/json"));
        HttpResponseMessage response;
        try
        {
            response = await _http.SendAsync(request, cancellationToken).ConfigureAwait(false);
        }
        catch (HttpRequestException e)
        {
            throw new ConnectorException($"Okta token endpoint {TokenEndpoint} is unreachable: {e.Message}", transient: true, e);
        }

        using (response)
        {
            var body = await response.Content.ReadAsStringAsync(cancellationToken).ConfigureAwait(false);
            if (response.StatusCode != HttpStatusCode.OK)
            {
                var error = OktaErrors.Parse(body);
                var said = error?.OAuthError is { } code ? $"{code}: {error.OAuthErrorDescription}" : $"HTTP {(int)response.StatusCode}";
                throw new ConnectorException(
                    $"Okta refused the service app's token request ({said}). Check the client id, that the app uses public key / private key " +
                    $"authentication with this key{(string.IsNullOrEmpty(_options.KeyId) ? "" : $" (kid {_options.KeyId})")}, that DPoP is not required, " +
                    $"and that the scopes {string.Join(' ', _options.Scopes)} are granted to it.",
                    transient: (int)response.StatusCode >= 500 || (int)response.StatusCode == 429);
            }

            var token = JsonSerializer.Deserialize<OktaTokenResponse>(body, OktaJson.Options)
                ?? throw new ConnectorException("Okta's token endpoint answered without a token");
            return (new AuthenticationHeaderValue("Bearer", token.AccessToken), _time.GetUtcNow().AddSeconds(token.ExpiresIn));
        }
    }

    private static string Base64Url(byte[] bytes) => Convert.ToBase64String(bytes).TrimEnd('=').Replace('+', '-').Replace('/', '_');
}
