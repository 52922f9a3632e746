using System.Collections.Immutable;

namespace ResponseEngine.Connectors.Okta;

/// <summary>How the engine signs in to Okta: an SSWS API token, or an OAuth 2.0 service app (private_key_jwt).</summary>
public enum OktaAuthMode
{
    ApiToken,
    ServiceApp,
}

/// <summary>Where the Okta org is and how to call it; validated once, so a bad setting fails at start-up rather than mid-run.</summary>
public sealed record OktaOptions
{
    /// <summary>The scopes the connector requests when none are configured: everything its reads and actions call.</summary>
    public static ImmutableArray<string> DefaultScopes { get; } =
        [OktaScopes.UsersRead, OktaScopes.UsersManage, OktaScopes.GroupsRead, OktaScopes.GroupsManage, OktaScopes.RolesRead, OktaScopes.LogsRead];

    /// <summary>The org URL, e.g. https://example.okta.com (no path).</summary>
    public required Uri BaseUrl { get; init; }

    public OktaAuthMode Auth { get; init; } = OktaAuthMode.ApiToken;

    /// <summary>SSWS API token (secret: from the environment or a file, never from respond.yaml).</summary>
    public string? ApiToken { get; init; }

    /// <summary>The service app's client id.</summary>
    public string? ClientId { get; init; }

    /// <summary>The service app's private key in PEM (PKCS#1 or PKCS#8 RSA); secret.</summary>
    public string? PrivateKeyPem { get; init; }

    /// <summary>The key id (kid) registered with the service app's public key; optional when it has only one key.</summary>
    public string? KeyId { get; init; }

    public ImmutableArray<string> Scopes { get; init; } = DefaultScopes;

    /// <summary>One request's deadline, measured on the injected clock; null means none (tests on fake time).</summary>
    public TimeSpan? RequestTimeout { get; init; } = TimeSpan.FromSeconds(30);

    /// <summary>Requests left in a rate-limit window below which the connector waits for the window to reset.</summary>
    public int RateLimitReserve { get; init; } = 1;

    /// <summary>How many times one call is retried after 429, 5xx or a timeout (5xx and timeouts only for idempotent calls).</summary>
    public int MaxRetries { get; init; } = 5;

    /// <summary>Added to Okta's reset time to absorb clock skew between the org and this host.</summary>
    public TimeSpan ResetSkew { get; init; } = TimeSpan.FromSeconds(1);

    /// <summary>Page size for list calls (Okta allows up to 200 for users and groups).</summary>
    public int PageSize { get; init; } = 200;

    /// <summary>Every problem with the settings at once; empty when they are usable.</summary>
    public IReadOnlyList<string> Validate()
    {
        var problems = new List<string>();
        if (BaseUrl is null || !BaseUrl.IsAbsoluteUri || (BaseUrl.Scheme != Uri.UriSchemeHttps && !BaseUrl.IsLoopback))
        {
            problems.Add("connectors.okta.base_url must be an absolute https URL such as https://example.okta.com");
        }
        else if (BaseUrl.AbsolutePath.Trim('/').Length > 0)
        {
            problems.Add($"connectors.okta.base_url must be the org URL without a path, not {BaseUrl}");
        }

        if (Auth == OktaAuthMode.ApiToken && string.IsNullOrWhiteSpace(ApiToken))
        {
            problems.Add("connectors.okta: auth api_token needs the token, from the variable named by token_env (default RESPOND_OKTA_API_TOKEN) or from token_file");
        }

        if (Auth == OktaAuthMode.ServiceApp)
        {
            if (string.IsNullOrWhiteSpace(ClientId)) problems.Add("connectors.okta: auth service_app needs client_id");
            if (string.IsNullOrWhiteSpace(PrivateKeyPem)) problems.Add("connectors.okta: auth service_app needs the private key, from private_key_file or the variable named by private_key_env (default RESPOND_OKTA_PRIVATE_KEY)");
            if (Scopes.IsDefaultOrEmpty) problems.Add("connectors.okta: auth service_app needs scopes");
        }

        if (RequestTimeout is { } timeout && timeout <= TimeSpan.Zero) problems.Add("connectors.okta.request_timeout must be positive");
        if (RateLimitReserve < 0) problems.Add("connectors.okta.rate_limit_reserve must be 0 or more");
        if (MaxRetries < 0) problems.Add("connectors.okta.max_retries must be 0 or more");
        if (PageSize is < 1 or > 200) problems.Add("connectors.okta.page_size must be between 1 and 200");
        return problems;
    }
}

/// <summary>The OAuth 2.0 scopes of the Okta management API the connector calls.</summary>
public static class OktaScopes
{
    public const string UsersRead = "okta.users.read";
    public const string UsersManage = "okta.users.manage";
    public const string GroupsRead = "okta.groups.read";
    public const string GroupsManage = "okta.groups.manage";
    public const string RolesRead = "okta.roles.read";
    public const string LogsRead = "okta.logs.read";
}
