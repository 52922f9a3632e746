using System.Collections.Immutable;

namespace ResponseEngine.Connectors.ActiveDirectory;

/// <summary>How the connector proves who it is to the domain controller.</summary>
public enum AdAuthentication
{
    /// <summary>Simple bind with a service account's DN or UPN and password, always inside LDAPS.</summary>
    Simple,

    /// <summary>Kerberos/NTLM through SASL GSS-SPNEGO (Windows) or GSSAPI (Linux, needs a ticket or keytab and the SASL GSSAPI module).</summary>
    Negotiate,
}

/// <summary>Retrying what a domain controller reports as temporary (busy 51, unavailable 52, server down 81, timeout 85).</summary>
public sealed record AdRetryOptions
{
    public int MaxAttempts { get; init; } = 4;

    public TimeSpan BaseDelay { get; init; } = TimeSpan.FromMilliseconds(500);

    public TimeSpan MaxDelay { get; init; } = TimeSpan.FromSeconds(10);

    /// <summary>The wait before attempt <paramref name="attempt"/> (2, 3, ...): doubling from the base, capped.</summary>
    public TimeSpan DelayBefore(int attempt)
    {
        var factor = Math.Pow(2, Math.Max(0, attempt - 2));
        var delay = TimeSpan.FromTicks((long)Math.Min(BaseDelay.Ticks * factor, MaxDelay.Ticks));
        return delay;
    }
}

/// <summary>
/// respond.yaml <c>connectors.ad</c>: where the domain controller is, how to trust it, and how to bind. The password is
/// never in the file: it is read from an environment variable or a file when the connector starts.
/// </summary>
public sealed record AdConnectorOptions
{
    /// <summary>Host name or IP address; it must match the certificate (an IP needs an IP SAN).</summary>
    public string Server { get; init; } = "";

    public int Port { get; init; } = 636;

    /// <summary>Where accounts and groups are searched, e.g. <c>DC=corp,DC=example,DC=com</c> or an OU under it.</summary>
    public string BaseDn { get; init; } = "";

    public AdAuthentication Authentication { get; init; } = AdAuthentication.Simple;

    /// <summary>The service account: a DN, a UPN or DOMAIN\name. For Negotiate, empty means the process's own ticket.</summary>
    public string? BindDn { get; init; }

    /// <summary>The environment variable that holds the service account's password.</summary>
    public string? PasswordEnv { get; init; }

    /// <summary>A file whose content (trailing newline removed) is the password, e.g. a mounted secret.</summary>
    public string? PasswordFile { get; init; }

    /// <summary>
    /// PEM file with the CA certificate(s) the DC's certificate must chain to, or a directory of them (prepared with
    /// <c>openssl rehash</c> for OpenSSL-based libldap). Empty means the system's trust store; validation stays on.
    /// </summary>
    public string? CaBundle { get; init; }

    /// <summary>Lab only: accept any server certificate. Logged as a warning at every start.</summary>
    public bool InsecureSkipCertificateValidation { get; init; }

    public TimeSpan Timeout { get; init; } = TimeSpan.FromSeconds(30);

    public int PageSize { get; init; } = 500;

    public AdRetryOptions Retry { get; init; } = new();

    /// <summary>Every problem at once, as sentences naming the respond.yaml key; empty when the options are usable.</summary>
    public ImmutableArray<string> Validate()
    {
        var problems = ImmutableArray.CreateBuilder<string>();
        if (string.IsNullOrWhiteSpace(Server)) problems.Add("connectors.ad.server is required");
        if (Port is < 1 or > 65535) problems.Add($"connectors.ad.port {Port} is not a TCP port");
        if (string.IsNullOrWhiteSpace(BaseDn) || !BaseDn.Contains('=', StringComparison.Ordinal)) problems.Add("connectors.ad.base_dn must be a distinguished name such as DC=corp,DC=example,DC=com");
        if (Authentication == AdAuthentication.Simple)
        {
            if (string.IsNullOrWhiteSpace(BindDn)) problems.Add("connectors.ad.bind_dn is required for simple bind");
            if (PasswordEnv is null && PasswordFile is null) problems.Add("connectors.ad needs password_env or password_file for simple bind (never a password in the file)");
        }

        if (PasswordEnv is not null && PasswordFile is not null) problems.Add("connectors.ad: give password_env or password_file, not both");
        if (CaBundle is not null && InsecureSkipCertificateValidation) problems.Add("connectors.ad: ca_bundle and insecure_skip_certificate_validation contradict each other");
        if (CaBundle is not null && !File.Exists(CaBundle) && !Directory.Exists(CaBundle)) problems.Add($"connectors.ad.ca_bundle '{CaBundle}' does not exist");
        if (Timeout <= TimeSpan.Zero) problems.Add("connectors.ad.timeout must be positive");
        if (PageSize is < 1 or > 10000) problems.Add("connectors.ad.page_size must be between 1 and 10000");
        if (Retry.MaxAttempts < 1) problems.Add("connectors.ad.retry.max_attempts must be at least 1");
        return problems.ToImmutable();
    }

    /// <summary>Reads the password from where the options say; null for Negotiate with the process's own ticket.</summary>
    public string? ReadPassword(Func<string, string?> environment)
    {
        ArgumentNullException.ThrowIfNull(environment);
        if (PasswordEnv is not null)
        {
            var value = environment(PasswordEnv);
            return string.IsNullOrEmpty(value)
                ? throw new AdConfigurationException($"connectors.ad.password_env: the environment variable {PasswordEnv} is not set")
                : value;
        }

        if (PasswordFile is not null)
        {
            try
            {
                var text = File.ReadAllText(PasswordFile).TrimEnd('\r', '\n');
                return text.Length == 0 ? throw new AdConfigurationException($"connectors.ad.password_file '{PasswordFile}' is empty") : text;
            }
            catch (IOException e)
            {
                throw new AdConfigurationException($"connectors.ad.password_file '{PasswordFile}' cannot be read: {e.Message}", e);
            }
            catch (UnauthorizedAccessException e)
            {
                throw new AdConfigurationException($"connectors.ad.password_file '{PasswordFile}' cannot be read: {e.Message}", e);
            }
        }

        return null;
    }
}

/// <summary>The connector cannot start with the options it was given; the message names the respond.yaml key.</summary>
public sealed class AdConfigurationException : Exception
{
    public AdConfigurationException()
    {
    }

    public AdConfigurationException(string message)
        : base(message)
    {
    }

    public AdConfigurationException(string message, Exception inner)
        : base(message, inner)
    {
    }
}
