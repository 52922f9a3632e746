using System.Net.Http.Headers;
using System.Text.Json.Nodes;
using ResponseEngine.Configuration;

namespace ResponseEngine.Service.Pollers;

/// <summary>
/// The HTTP client a provider poller uses. Okta: the org URL and the API token of connectors.okta (SSWS). Microsoft
/// Graph: <c>base_url</c> (default https://graph.microsoft.com/) and either an app registration (<c>tenant_id</c>,
/// <c>client_id</c>, secret in the variable <c>client_secret_env</c>; the client-credentials token is fetched and
/// renewed) or a token in the variable <c>token_env</c>. Secrets come from the environment only.
/// </summary>
public static class PollerHttp
{
    public static HttpClient Okta(Uri baseUrl, string apiToken, string userAgent)
    {
        var http = new HttpClient { BaseAddress = baseUrl, Timeout = TimeSpan.FromSeconds(60) };
        http.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("SSWS", apiToken);
        http.DefaultRequestHeaders.Accept.ParseAdd("application/json");
        http.DefaultRequestHeaders.UserAgent.ParseAdd(userAgent);
        return http;
    }

    public static HttpClient Graph(PollerOptions options, Func<string, string?> environment, TimeProvider time, string userAgent)
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(environment);
        var baseUrl = new Uri(options.Get("base_url") ?? "https://graph.microsoft.com/");
        HttpMessageHandler handler = new HttpClientHandler();
        if (options.Get("token_env") is { } tokenEnv)
        {
            var token = environment(tokenEnv) ?? throw new InvalidOperationException($"serve.pollers.{options.Name}: the variable {tokenEnv} (token_env) is not set");
            handler = new StaticToken(token, handler);
        }
        else if (options.Get("tenant_id") is { } tenant && options.Get("client_id") is { } client && options.Get("client_secret_env") is { } secretEnv)
        {
            var secret = environment(secretEnv) ?? throw new InvalidOperationException($"serve.pollers.{options.Name}: the variable {secretEnv} (client_secret_env) is not set");
            var authority = new Uri(options.Get("authority") ?? "https://login.microsoftonline.com/");
            handler = new ClientCredentials(new Uri(authority, $"{tenant}/oauth2/v2.0/token"), client, secret, new Uri(baseUrl, ".default").AbsoluteUri, time, handler);
        }
        else
        {
            throw new InvalidOperationException($"serve.pollers.{options.Name}: set tenant_id, client_id and client_secret_env (an app registration with SecurityAlert.Read.All and IdentityRiskyUser.Read.All), or token_env");
        }

        var http = new HttpClient(handler) { BaseAddress = baseUrl, Timeout = TimeSpan.FromSeconds(60) };
        http.DefaultRequestHeaders.Accept.ParseAdd("application/json");
        http.DefaultRequestHeaders.UserAgent.ParseAdd(userAgent);
        return http;
    }

    private sealed class StaticToken(string token, HttpMessageHandler inner) : DelegatingHandler(inner)
    {
        protected override Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
        {
            request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", token);
            return base.SendAsync(request, cancellationToken);
        }
    }

    /// <summary>OAuth 2.0 client credentials against the Microsoft identity platform; the token is reused until five minutes before it expires.</summary>
    private sealed class ClientCredentials(Uri tokenEndpoint, string clientId, string secret, string scope, TimeProvider time, HttpMessageHandler inner) : DelegatingHandler(inner)
    {
        private readonly SemaphoreSlim _lock = new(1, 1);
        private (string Token, DateTimeOffset Expires)? _token;

        protected override async Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
        {
            request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", await TokenAsync(cancellationToken));
            return await base.SendAsync(request, cancellationToken);
        }

        protected override void Dispose(bool disposing)
        {
            if (disposing) _lock.Dispose();
            base.Dispose(disposing);
        }

        private async Task<string> TokenAsync(CancellationToken cancellationToken)
        {
            await _lock.WaitAsync(cancellationToken);
            try
            {
                if (_token is { } t && time.GetUtcNow() < t.Expires - TimeSpan.FromMinutes(5)) return t.Token;
                using var form = new FormUrlEncodedContent(new Dictionary<string, string>
                {
                    ["grant_type"] = "client_credentials",
                    ["client_id"] = clientId,
                    ["client_secret"] = secret,
                    ["scope"] = scope,
                });
                using var post = new HttpRequestMessage(HttpMethod.Post, tokenEndpoint) { Content = form };
                using var response = await base.SendAsync(post, cancellationToken);
                var body = JsonNode.Parse(await response.Content.ReadAsStringAsync(cancellationToken));
                if (!response.IsSuccessStatusCode || body?["access_token"]?.ToString() is not { } token)
                {
                    throw new PollerException($"the token endpoint refused the app registration ({(int)response.StatusCode}): {body?["error_description"] ?? body?["error"]}");
                }

                var seconds = body["expires_in"]?.GetValue<int>() ?? 3600;
                _token = (token, time.GetUtcNow().AddSeconds(seconds));
                return token;
            }
            finally
            {
                _lock.Release();
            }
        }
    }
}
