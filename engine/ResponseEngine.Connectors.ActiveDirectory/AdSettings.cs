using System.Collections.Immutable;
using System.Globalization;

namespace ResponseEngine.Connectors.ActiveDirectory;

/// <summary>Reads respond.yaml <c>connectors.ad</c> (kind: ldap) settings, as written, into <see cref="AdConnectorOptions"/>.</summary>
public static class AdSettings
{
    /// <summary>The keys <c>connectors.ad</c> accepts besides <c>kind</c>.</summary>
    public static ImmutableArray<string> Keys { get; } =
    [
        "server", "port", "base_dn", "auth", "bind_dn", "password_env", "password_file", "ca_bundle",
        "insecure_skip_certificate_validation", "timeout_seconds", "page_size", "retry_attempts",
    ];

    /// <summary>The options, or null with every problem at once (unknown keys, bad numbers, missing values).</summary>
    public static (AdConnectorOptions? Options, ImmutableArray<string> Problems) Read(IReadOnlyDictionary<string, string> settings)
    {
        ArgumentNullException.ThrowIfNull(settings);
        var problems = ImmutableArray.CreateBuilder<string>();
        foreach (var key in settings.Keys.Where(k => k != "kind" && !Keys.Contains(k)))
        {
            problems.Add($"connectors.ad.{key} is not a setting (known: {string.Join(", ", Keys)})");
        }

        string? Text(string key) => settings.TryGetValue(key, out var value) && !string.IsNullOrWhiteSpace(value) ? value.Trim() : null;
        int Number(string key, int fallback)
        {
            if (Text(key) is not { } text) return fallback;
            if (int.TryParse(text, NumberStyles.Integer, CultureInfo.InvariantCulture, out var number)) return number;
            problems.Add($"connectors.ad.{key} '{text}' is not a whole number");
            return fallback;
        }

        var authentication = AdAuthentication.Simple;
        switch (Text("auth")?.ToLowerInvariant())
        {
            case null or "simple": break;
            case "negotiate" or "kerberos": authentication = AdAuthentication.Negotiate; break;
            case { } other: problems.Add($"connectors.ad.auth '{other}' is not simple or negotiate"); break;
        }

        var insecure = false;
        if (Text("insecure_skip_certificate_validation") is { } flag && !bool.TryParse(flag, out insecure))
        {
            problems.Add($"connectors.ad.insecure_skip_certificate_validation '{flag}' is not true or false");
        }

        var defaults = new AdConnectorOptions();
        var options = new AdConnectorOptions
        {
            Server = Text("server") ?? "",
            Port = Number("port", defaults.Port),
            BaseDn = Text("base_dn") ?? "",
            Authentication = authentication,
            BindDn = Text("bind_dn"),
            PasswordEnv = Text("password_env"),
            PasswordFile = Text("password_file"),
            CaBundle = Text("ca_bundle"),
            InsecureSkipCertificateValidation = insecure,
            Timeout = TimeSpan.FromSeconds(Number("timeout_seconds", (int)defaults.Timeout.TotalSeconds)),
            PageSize = Number("page_size", defaults.PageSize),
            Retry = defaults.Retry with { MaxAttempts = Number("retry_attempts", defaults.Retry.MaxAttempts) },
        };
        problems.AddRange(options.Validate());
        return problems.Count == 0 ? (options, []) : (null, problems.ToImmutable());
    }
}
