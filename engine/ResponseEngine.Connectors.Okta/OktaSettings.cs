using System.Collections.Immutable;
using System.Globalization;

namespace ResponseEngine.Connectors.Okta;

/// <summary>
/// Reads <c>connectors.okta</c> of respond.yaml (flat key/value settings) into <see cref="OktaOptions"/>. Secrets are
/// named, never written: the token and the private key come from an environment variable or a file.
/// </summary>
public static class OktaSettings
{
    public static ImmutableArray<string> Keys { get; } =
    [
        "base_url", "auth", "token_env", "token_file", "client_id", "private_key_env", "private_key_file", "key_id", "scopes",
        "request_timeout_seconds", "rate_limit_reserve", "max_retries", "page_size",
    ];

    /// <summary>The options, or every problem found; <paramref name="environment"/> and <paramref name="readFile"/> are injected for tests.</summary>
    public static (OktaOptions? Options, IReadOnlyList<string> Problems) Read(
        IReadOnlyDictionary<string, string> settings, Func<string, string?> environment, Func<string, string> readFile)
    {
        ArgumentNullException.ThrowIfNull(settings);
        ArgumentNullException.ThrowIfNull(environment);
        ArgumentNullException.ThrowIfNull(readFile);
        var problems = new List<string>();
        foreach (var key in settings.Keys.Where(k => !Keys.Contains(k))) problems.Add($"connectors.okta: unknown setting '{key}' (known: {string.Join(", ", Keys)})");

        var get = (string key) => settings.TryGetValue(key, out var value) && !string.IsNullOrWhiteSpace(value) ? value.Trim() : null;
        if (get("base_url") is not { } baseUrl || !Uri.TryCreate(baseUrl, UriKind.Absolute, out var uri))
        {
            problems.Add("connectors.okta.base_url is required: the org URL, e.g. https://example.okta.com");
            return (null, problems);
        }

        var auth = get("auth") ?? "api_token";
        var mode = auth switch
        {
            "api_token" => OktaAuthMode.ApiToken,
            "service_app" => OktaAuthMode.ServiceApp,
            _ => (OktaAuthMode?)null,
        };
        if (mode is null) problems.Add($"connectors.okta.auth is '{auth}', not api_token or service_app");

        string? Secret(string envKey, string fileKey, string defaultEnv)
        {
            if (get(fileKey) is { } file)
            {
                try
                {
                    return readFile(file).Trim();
                }
                catch (IOException e)
                {
                    problems.Add($"connectors.okta.{fileKey}: cannot read {file}: {e.Message}");
                    return null;
                }
                catch (UnauthorizedAccessException e)
                {
                    problems.Add($"connectors.okta.{fileKey}: cannot read {file}: {e.Message}");
                    return null;
                }
            }

            return environment(get(envKey) ?? defaultEnv);
        }

        var options = new OktaOptions
        {
            BaseUrl = uri,
            Auth = mode ?? OktaAuthMode.ApiToken,
            ApiToken = mode == OktaAuthMode.ApiToken ? Secret("token_env", "token_file", "RESPOND_OKTA_API_TOKEN") : null,
            ClientId = get("client_id"),
            PrivateKeyPem = mode == OktaAuthMode.ServiceApp ? Secret("private_key_env", "private_key_file", "RESPOND_OKTA_PRIVATE_KEY") : null,
            KeyId = get("key_id"),
            Scopes = get("scopes") is { } scopes ? [.. scopes.Split([' ', ','], StringSplitOptions.RemoveEmptyEntries)] : OktaOptions.DefaultScopes,
            RequestTimeout = Int("request_timeout_seconds") is { } seconds ? TimeSpan.FromSeconds(seconds) : TimeSpan.FromSeconds(30),
            RateLimitReserve = Int("rate_limit_reserve") ?? 1,
            MaxRetries = Int("max_retries") ?? 5,
            PageSize = Int("page_size") ?? 200,
        };
        problems.AddRange(options.Validate());
        return (problems.Count == 0 ? options : null, problems);

        int? Int(string key)
        {
            if (get(key) is not { } text) return null;
            if (int.TryParse(text, NumberStyles.Integer, CultureInfo.InvariantCulture, out var value)) return value;
            problems.Add($"connectors.okta.{key} must be a whole number, not '{text}'");
            return null;
        }
    }
}
