using System.Collections.Immutable;
using System.Globalization;

namespace ResponseEngine.Connectors.Entra;

/// <summary>
/// Reads <c>connectors.entra</c> of respond.yaml (flat key/value settings) into <see cref="EntraOptions"/>. Secrets are
/// named, never written: the client secret and the certificate password come from an environment variable or a file.
/// </summary>
public static class EntraSettings
{
    /// <summary>The keys <c>connectors.entra</c> accepts besides <c>kind</c>.</summary>
    public static ImmutableArray<string> Keys { get; } =
    [
        "tenant_id", "client_id", "auth", "client_secret_env", "client_secret_file", "certificate_file", "certificate_password_env",
        "base_url", "authority_host", "state_file", "policy_state", "request_timeout_seconds", "max_retries", "page_size",
        "writes_per_second", "write_burst",
    ];

    /// <summary>The options, or every problem found; <paramref name="environment"/> and <paramref name="readFile"/> are injected for tests.</summary>
    public static (EntraOptions? Options, IReadOnlyList<string> Problems) Read(
        IReadOnlyDictionary<string, string> settings, Func<string, string?> environment, Func<string, string> readFile)
    {
        ArgumentNullException.ThrowIfNull(settings);
        ArgumentNullException.ThrowIfNull(environment);
        ArgumentNullException.ThrowIfNull(readFile);
        var problems = new List<string>();
        foreach (var key in settings.Keys.Where(k => k != "kind" && !Keys.Contains(k)))
        {
            problems.Add($"connectors.entra.{key} is not a setting (known: {string.Join(", ", Keys)})");
        }

        string? Text(string key) => settings.TryGetValue(key, out var value) && !string.IsNullOrWhiteSpace(value) ? value.Trim() : null;
        int? Number(string key)
        {
            if (Text(key) is not { } text) return null;
            if (int.TryParse(text, NumberStyles.Integer, CultureInfo.InvariantCulture, out var number)) return number;
            problems.Add($"connectors.entra.{key} must be a whole number, not '{text}'");
            return null;
        }

        double? Rate(string key)
        {
            if (Text(key) is not { } text) return null;
            if (double.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out var rate) && double.IsFinite(rate)) return rate;
            problems.Add($"connectors.entra.{key} must be a number (writes per second, 0 for no pacing), not '{text}'");
            return null;
        }

        Uri? Url(string key)
        {
            if (Text(key) is not { } text) return null;
            if (Uri.TryCreate(text, UriKind.Absolute, out var uri)) return uri;
            problems.Add($"connectors.entra.{key} must be an absolute URL, not '{text}'");
            return null;
        }

        var auth = Text("auth") ?? "certificate";
        var mode = auth switch
        {
            "certificate" => EntraAuthMode.Certificate,
            "client_secret" => EntraAuthMode.ClientSecret,
            _ => (EntraAuthMode?)null,
        };
        if (mode is null) problems.Add($"connectors.entra.auth is '{auth}', not certificate or client_secret");

        string? secret = null;
        if (mode == EntraAuthMode.ClientSecret)
        {
            if (Text("client_secret_file") is { } file)
            {
                try
                {
                    secret = readFile(file).Trim();
                }
                catch (Exception e) when (e is IOException or UnauthorizedAccessException)
                {
                    problems.Add($"connectors.entra.client_secret_file: cannot read {file}: {e.Message}");
                }
            }
            else
            {
                secret = environment(Text("client_secret_env") ?? "RESPOND_ENTRA_CLIENT_SECRET");
            }
        }

        var defaults = new EntraOptions { TenantId = "", ClientId = "" };
        var options = new EntraOptions
        {
            TenantId = Text("tenant_id") ?? "",
            ClientId = Text("client_id") ?? "",
            Auth = mode ?? EntraAuthMode.Certificate,
            ClientSecret = secret,
            CertificatePath = Text("certificate_file"),
            CertificatePassword = Text("certificate_password_env") is { } passwordEnv ? environment(passwordEnv) : null,
            BaseUrl = Url("base_url") ?? EntraOptions.DefaultBaseUrl,
            AuthorityHost = Url("authority_host"),
            StateFile = Text("state_file") ?? defaults.StateFile,
            PolicyState = Text("policy_state") ?? defaults.PolicyState,
            RequestTimeout = Number("request_timeout_seconds") is { } seconds ? TimeSpan.FromSeconds(seconds) : defaults.RequestTimeout,
            MaxRetries = Number("max_retries") ?? defaults.MaxRetries,
            PageSize = Number("page_size") ?? defaults.PageSize,
            WritesPerSecond = Rate("writes_per_second") ?? defaults.WritesPerSecond,
            WriteBurst = Number("write_burst") ?? defaults.WriteBurst,
        };
        if (Text("certificate_password_env") is { } variable && options.CertificatePassword is null)
        {
            problems.Add($"connectors.entra.certificate_password_env names {variable}, which is not set");
        }

        problems.AddRange(options.Validate());
        return (problems.Count == 0 ? options : null, problems);
    }
}
