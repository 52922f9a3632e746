using ResponseEngine.Audit;
using ResponseEngine.Configuration;
using ResponseEngine.Execution;
using ResponseEngine.Findings;
using ResponseEngine.Inbox;

namespace ResponseEngine.Service;

/// <summary>
/// What `respond serve` hands the service: the options, the opened audit store (which is also the inbox), the
/// connectors, and how to make a run context — the same one `respond run` makes, so both reach the directory through
/// one executor.
/// </summary>
public sealed record ServeSetup(
    EngineOptions Options,
    IAuditStore Store,
    IFindingInbox Inbox,
    IReadOnlyDictionary<Provider, IConnector> Connectors,
    Func<RunContext> NewRun,
    TimeProvider Time,
    string EngineVersion)
{
    /// <summary>The webhook secret and token, read from the environment variables the options name; never logged.</summary>
    public string? HmacSecret { get; init; }

    public string? BearerToken { get; init; }

    /// <summary>The console's OIDC client secret and API tokens (hashed), read from the environment variables the options name; never logged.</summary>
    public Console.ConsoleCredentials ConsoleCredentials { get; init; } = Console.ConsoleCredentials.None;

    /// <summary>Called once the server listens, with the address it listens on (the real port when 0 was asked for).</summary>
    public Action<string>? Started { get; init; }

    /// <summary>HTTP clients for pollers that call a provider (Okta System Log, Microsoft Graph), by poller kind.</summary>
    public Func<PollerOptions, HttpClient>? PollerHttp { get; init; }

    /// <summary>Log lines on standard error: json (one object per line, the default) or text (for a person at a terminal).</summary>
    public string LogFormat { get; init; } = "json";

    /// <summary>The lowest level logged (Trace, Debug, Information, Warning, Error, Critical); RESPOND_LOG_LEVEL sets it.</summary>
    public Microsoft.Extensions.Logging.LogLevel LogLevel { get; init; } = Microsoft.Extensions.Logging.LogLevel.Information;

    /// <summary>Where records an input could not use are kept (the store, when it has a quarantine); null keeps none, and they are only logged.</summary>
    public IRejectedRecords? Quarantine => Store as IRejectedRecords ?? Inbox as IRejectedRecords;

    /// <summary>The instance name in leases and logs.</summary>
    public string Instance => string.IsNullOrWhiteSpace(Options.Serve.Instance)
        ? $"{Environment.MachineName}-{Environment.ProcessId}"
        : Options.Serve.Instance;
}
