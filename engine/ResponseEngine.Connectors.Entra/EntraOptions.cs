namespace ResponseEngine.Connectors.Entra;

/// <summary>How the engine signs in to Entra ID: app-only, with a client secret or a certificate.</summary>
public enum EntraAuthMode
{
    ClientSecret,
    Certificate,
}

/// <summary>Where the tenant is and how to call Graph; validated once, so a bad setting fails at start-up rather than mid-run.</summary>
public sealed record EntraOptions
{
    public static Uri DefaultBaseUrl { get; } = new("https://graph.microsoft.com/v1.0");

    /// <summary>The directory (tenant) id, a GUID.</summary>
    public required string TenantId { get; init; }

    /// <summary>The app registration's application (client) id.</summary>
    public required string ClientId { get; init; }

    /// <summary>Graph's service root; tests point it at an emulator on loopback.</summary>
    public Uri BaseUrl { get; init; } = DefaultBaseUrl;

    public EntraAuthMode Auth { get; init; } = EntraAuthMode.Certificate;

    /// <summary>The client secret (secret: from the environment or a file, never from respond.yaml).</summary>
    public string? ClientSecret { get; init; }

    /// <summary>A PFX/PKCS#12 or PEM file holding the certificate and its private key.</summary>
    public string? CertificatePath { get; init; }

    /// <summary>The PFX password, when it has one (secret).</summary>
    public string? CertificatePassword { get; init; }

    /// <summary>The Entra authority host, for national clouds (default: the public cloud).</summary>
    public Uri? AuthorityHost { get; init; }

    /// <summary>Where the ids of the engine's conditional-access policies are kept (relative to the working directory).</summary>
    public string StateFile { get; init; } = "respond.state/entra-policies.json";

    /// <summary>State of a conditional-access policy the engine creates: enabled, or enabledForReportingButNotEnforced (report-only).</summary>
    public string PolicyState { get; init; } = "enabled";

    /// <summary>One request's deadline, measured on the injected clock; null means none (tests on fake time).</summary>
    public TimeSpan? RequestTimeout { get; init; } = TimeSpan.FromSeconds(30);

    /// <summary>How many times one call (or one item of a batch) is retried after 429/503/504 or, when safe to repeat, a fault.</summary>
    public int MaxRetries { get; init; } = 8;

    /// <summary>Wait before retrying a throttled call that came without Retry-After, doubled each time.</summary>
    public TimeSpan ThrottleFallback { get; init; } = TimeSpan.FromSeconds(2);

    /// <summary>Least time between two conditional-access or Identity Protection writes to the tenant (Graph allows about one a second).</summary>
    public TimeSpan PolicyWriteInterval { get; init; } = TimeSpan.FromSeconds(1);

    /// <summary>Graph's documented identity-and-access write limit per app and tenant: about 3,000 writes per 150 s.</summary>
    public const double DocumentedWritesPerSecond = 20;

    /// <summary>
    /// Writes (every call but GET and the engine's <c>$batch</c> of GETs, retries included) sent per second at most, paced
    /// on the <see cref="TimeProvider"/> so that the connector keeps to Graph's limit instead of running into 429s and
    /// waiting them out; 0 turns pacing off (429s are still waited out).
    /// </summary>
    public double WritesPerSecond { get; init; } = DocumentedWritesPerSecond;

    /// <summary>Writes that may go out at once after a quiet spell, before pacing starts (the pacer's bucket size).</summary>
    public int WriteBurst { get; init; } = 20;

    /// <summary>Page size asked of list calls ($top).</summary>
    public int PageSize { get; init; } = 100;

    /// <summary>The settings without their secrets: a record would print the client secret and certificate password.</summary>
    public override string ToString() =>
        $"EntraOptions {{ TenantId = {TenantId}, ClientId = {ClientId}, BaseUrl = {BaseUrl}, Auth = {Auth}, ClientSecret = {(ClientSecret is null ? "none" : "***")}, " +
        $"CertificatePath = {CertificatePath}, CertificatePassword = {(CertificatePassword is null ? "none" : "***")}, StateFile = {StateFile}, PolicyState = {PolicyState} }}";

    /// <summary>Every problem with the settings at once; empty when they are usable.</summary>
    public IReadOnlyList<string> Validate()
    {
        var problems = new List<string>();
        if (!Guid.TryParse(TenantId, out _)) problems.Add($"connectors.entra.tenant_id must be the directory (tenant) id, a GUID, not '{TenantId}'");
        if (!Guid.TryParse(ClientId, out _)) problems.Add($"connectors.entra.client_id must be the application (client) id, a GUID, not '{ClientId}'");
        if (BaseUrl is null || !BaseUrl.IsAbsoluteUri || (BaseUrl.Scheme != Uri.UriSchemeHttps && !BaseUrl.IsLoopback))
        {
            problems.Add("connectors.entra.base_url must be an absolute https URL such as https://graph.microsoft.com/v1.0");
        }

        if (Auth == EntraAuthMode.ClientSecret && string.IsNullOrWhiteSpace(ClientSecret))
        {
            problems.Add("connectors.entra: auth client_secret needs the secret, from the variable named by client_secret_env (default RESPOND_ENTRA_CLIENT_SECRET) or from client_secret_file");
        }

        if (Auth == EntraAuthMode.Certificate && string.IsNullOrWhiteSpace(CertificatePath))
        {
            problems.Add("connectors.entra: auth certificate needs certificate_file, a PFX or PEM file with the private key");
        }

        if (PolicyState is not ("enabled" or "enabledForReportingButNotEnforced"))
        {
            problems.Add($"connectors.entra.policy_state must be enabled or enabledForReportingButNotEnforced, not '{PolicyState}'");
        }

        if (string.IsNullOrWhiteSpace(StateFile)) problems.Add("connectors.entra.state_file must name a file");
        if (RequestTimeout is { } timeout && timeout <= TimeSpan.Zero) problems.Add("connectors.entra.request_timeout_seconds must be positive");
        if (MaxRetries < 0) problems.Add("connectors.entra.max_retries must be 0 or more");
        if (PageSize is < 1 or > 999) problems.Add("connectors.entra.page_size must be between 1 and 999");
        if (PolicyWriteInterval < TimeSpan.Zero) problems.Add("connectors.entra.policy_write_interval must be 0 or more");
        if (double.IsNaN(WritesPerSecond) || WritesPerSecond < 0 || WritesPerSecond > 10_000)
        {
            problems.Add($"connectors.entra.writes_per_second must be between 0 (no pacing) and 10000, not {WritesPerSecond.ToString(System.Globalization.CultureInfo.InvariantCulture)}");
        }

        if (WriteBurst < 1) problems.Add("connectors.entra.write_burst must be 1 or more");
        return problems;
    }
}
