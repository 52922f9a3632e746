using System.CommandLine;
using System.Reflection;
using ResponseEngine.Audit;
using ResponseEngine.Audit.Sqlite;
using ResponseEngine.Audit.SqlServer;
using ResponseEngine.Configuration;
using ResponseEngine.Connectors.Local;
using ResponseEngine.Execution;
using ResponseEngine.Findings;
using ResponseEngine.Identities;
using ResponseEngine.Notifications;
using ResponseEngine.Policy.Configuration;
using ResponseEngine.Service.Notifications;

namespace ResponseEngine.Cli.Commands;

/// <summary>Builds what the acting commands share: configuration, the audit store, the connectors and the run context.</summary>
internal static class EngineHost
{
    public static Option<string?> Config() => new("--config", "-c")
    {
        Description = "Configuration file (default: respond.yaml when present; RESPOND__SECTION__KEY environment variables override it)",
        HelpName = "FILE",
    };

    public static string Version { get; } =
        typeof(EngineHost).Assembly.GetCustomAttribute<AssemblyInformationalVersionAttribute>()?.InformationalVersion.Split('+')[0] ?? "0.0.0";

    public static EngineOptions LoadOptions(CliContext context, string? file)
    {
        var load = ConfigLoader.Load(file);
        if (load.Options is null)
        {
            CommonOptions.Print(context.Error, load.Diagnostics, context.Color);
            throw new CliInputException($"the configuration has {CommonOptions.Plural(load.Diagnostics.Count(d => d.IsError), "error")}");
        }

        return load.Options;
    }

    /// <summary>Opens and migrates the audit store; a store that cannot be opened stops the command (exit 1).</summary>
    public static async Task<IAuditStore> OpenStoreAsync(EngineOptions options, TimeProvider time, CancellationToken cancellationToken)
    {
        IAuditStore store = options.Audit.Store == "sqlserver"
            ? new SqlServerAuditStore(options.Audit.Connection, time)
            : new SqliteAuditStore(options.Audit.Connection, time);
        try
        {
            if (store is IAnchoredAuditStore anchored) anchored.AnchorKey = AuditKey();
            await store.InitializeAsync(cancellationToken);
            return store;
        }
        catch
        {
            await store.DisposeAsync();
            throw;
        }
    }

    /// <summary>A trail opened to be read only, and how a plan names it.</summary>
    public sealed record History(IAuditStore Store, string Name) : IAsyncDisposable
    {
        public ValueTask DisposeAsync() => Store.DisposeAsync();
    }

    /// <summary>
    /// Opens the configured audit store for `plan --history`: read only, never migrated or created (a SQLite file is
    /// opened in read-only mode); a trail that does not exist or cannot be read is an error naming it (exit 2).
    /// </summary>
    public static async Task<History> OpenHistoryAsync(EngineOptions options, TimeProvider time, CancellationToken cancellationToken)
    {
        IAuditStore store;
        string name;
        if (options.Audit.Store == "sqlserver")
        {
            store = new SqlServerAuditStore(options.Audit.Connection, time);
            name = "the SQL Server audit store";
        }
        else
        {
            var builder = options.Audit.Connection.Contains('=', StringComparison.Ordinal)
                ? new Microsoft.Data.Sqlite.SqliteConnectionStringBuilder(options.Audit.Connection)
                : new Microsoft.Data.Sqlite.SqliteConnectionStringBuilder { DataSource = options.Audit.Connection };
            if (!File.Exists(builder.DataSource))
            {
                throw new CliInputException($"--history: there is no audit trail at {builder.DataSource} (audit.connection in the configuration); plan without --history to count with an empty history");
            }

            builder.Mode = Microsoft.Data.Sqlite.SqliteOpenMode.ReadOnly;
            store = new SqliteAuditStore(builder.ToString(), time);
            name = builder.DataSource;
        }

        try
        {
            // A read proves the trail answers before the plan starts; nothing is written to it, not even a migration.
            await store.CountAsync(new AuditQuery { Limit = 1 }, cancellationToken);
            return new History(store, name);
        }
        catch (Exception e) when (e is System.Data.Common.DbException or IOException or UnauthorizedAccessException or InvalidOperationException)
        {
            await store.DisposeAsync();
            throw new CliInputException($"--history: the audit trail {name} cannot be read: {e.Message}");
        }
    }

    /// <summary>The audit anchor key from RESPOND_AUDIT_KEY_FILE or RESPOND_AUDIT_KEY, or null; an unusable key stops the command (exit 2).</summary>
    public static AuditAnchorKey? AuditKey()
    {
        try
        {
            return AuditAnchorKey.FromEnvironment(Environment.GetEnvironmentVariable);
        }
        catch (AuditKeyException e)
        {
            throw new CliInputException(e.Message);
        }
    }

    /// <summary>
    /// Opens the audit store for a command that must not start without it: when it cannot be opened, says so on standard
    /// error ("respond: nothing {<paramref name="nothing"/>}: …") and returns null (the command exits 1).
    /// </summary>
    public static async Task<IAuditStore?> OpenStoreOrReportAsync(CliContext context, EngineOptions options, string nothing, CancellationToken cancellationToken)
    {
        try
        {
            return await OpenStoreAsync(options, context.Time, cancellationToken);
        }
        catch (Exception e) when (e is AuditWriteException or IOException or UnauthorizedAccessException or InvalidOperationException)
        {
            context.Error.WriteLine($"respond: nothing {nothing}: the audit store cannot be opened: {e.Message}");
            return null;
        }
    }

    /// <summary>One connector per provider: the configured kind, or the local directory when none is configured.</summary>
    public static IReadOnlyDictionary<Findings.Provider, IConnector> Connectors(EngineOptions options, TimeProvider time)
    {
        var local = LocalDirectory.Open(options.Local, Directory.GetCurrentDirectory(), time, options.Privileged);

        // The journal of changes is folded into the working copy when the command ends (or the service stops); after a
        // kill it stays and the next command reads it.
        AppDomain.CurrentDomain.ProcessExit += (_, _) => local.Dispose();
        var connectors = new Dictionary<Findings.Provider, IConnector>();
        foreach (var provider in Findings.Providers.All)
        {
            var settings = options.Connectors.GetValueOrDefault(provider) ?? ConnectorSettings.Local;
            connectors[provider] = settings.Kind switch
            {
                "local" => local.Connector(provider),
                "okta" when provider == Provider.Okta => Okta(settings, options, time),
                "ldap" when provider == Provider.Ad => Ad(settings, options, time),
                "graph" or "entra" when provider == Provider.Entra => Entra(settings, options, time),
                _ => throw new CliInputException(
                    $"connectors.{provider.Name()}: kind '{settings.Kind}' is not available in this build yet; use kind: local (see README: Active Directory, Entra ID, Okta)"),
            };
        }

        return connectors;
    }

    /// <summary>
    /// When a finding names an account in a provider the local directory serves, reads it once before anything is decided:
    /// a snapshot or working copy that cannot be read is said once with its position (exit 2), instead of one `identity`
    /// skip per decision. Null when it reads, or when no finding needs it (a run on a real AD alone needs no sample).
    /// </summary>
    public static async Task<(string Problem, bool Transient)?> LocalDirectoryProblemAsync(EngineOptions options,
        IReadOnlyDictionary<Findings.Provider, IConnector> connectors, IEnumerable<Finding> findings, CancellationToken cancellationToken)
    {
        var served = connectors.Keys.Where(p => options.Connectors.GetValueOrDefault(p) is null or { Kind: "local" }).ToHashSet();
        var local = findings.Select(f => f.Subject.Provider).Where(served.Contains).Select(p => connectors[p]).OfType<IDirectoryExport>().FirstOrDefault();
        if (local is null) return null;
        try
        {
            await local.ExportAsync(cancellationToken);
            return null;
        }
        catch (ConnectorException e)
        {
            return ($"{e.Message} (working copy of {options.Local.Snapshot}: fix the snapshot, or delete the working copy to start again from it)", e.Transient);
        }
    }

    /// <summary>The connectors respond.yaml configures (not the local directory), which must answer before anything is decided.</summary>
    public static IEnumerable<KeyValuePair<Findings.Provider, IConnector>> Configured(EngineOptions options, IReadOnlyDictionary<Findings.Provider, IConnector> connectors) =>
        connectors.Where(c => options.Connectors.GetValueOrDefault(c.Key) is { Kind: not "local" });

    /// <summary>
    /// Checks every configured connector at once within execution.connect_timeout; for each that does not answer, one line
    /// on standard error naming it and the cause ("respond: {<paramref name="lead"/>}: connector …"). False when any failed.
    /// </summary>
    public static async Task<bool> CheckConnectorsAsync(CliContext context, EngineOptions options, IReadOnlyDictionary<Findings.Provider, IConnector> connectors,
        string lead, CancellationToken cancellationToken, INotificationSink? notifications = null)
    {
        var results = await ConnectorCheck.CheckAllAsync(Configured(options, connectors), options.ConnectTimeout, context.Time, cancellationToken);
        foreach (var failed in results.Where(r => !r.Reachable))
        {
            notifications?.Publish(Notification.ConnectorUnreachable(failed.Provider, SignsInAs(options.Connectors[failed.Provider], options), failed.Problem ?? "no answer",
                context.Time.GetUtcNow(), Environment.MachineName));
            context.Error.WriteLine(Rendering.TerminalText.Escape(
                $"respond: {lead}: connector {failed.Provider.Name()} ({SignsInAs(options.Connectors[failed.Provider], options)}) does not answer: {failed.Problem}; check connectors.{failed.Provider.Name()} in respond.yaml, or run `respond doctor`"));
        }

        return results.All(r => r.Reachable);
    }

    /// <summary>The account the connector signs in as, from its settings (never a secret).</summary>
    public static string SignsInAs(ConnectorSettings settings, EngineOptions options)
    {
        string Get(string key) => settings.Settings.GetValueOrDefault(key) ?? "?";
        return settings.Kind switch
        {
            "ldap" => $"{Get("bind_dn")} at {Get("server")}",
            "okta" => $"{Get("auth")} at {Get("base_url")}",
            "entra" or "graph" => $"app {Get("client_id")} in tenant {Get("tenant_id")} ({Get("auth")})",
            _ => $"local directory {options.Local.WorkingCopy} (from {options.Local.Snapshot})",
        };
    }

    /// <summary>
    /// The run's context; with <paramref name="notifications"/> (and not a dry run) its audit view tells them about the rows a
    /// person should hear about once they are committed (breaker opened, approval needed, action failed).
    /// </summary>
    public static RunContext Run(EngineOptions options, IAuditStore store, IReadOnlyDictionary<Findings.Provider, IConnector> connectors, TimeProvider time, bool dryRun,
        INotificationSink? notifications = null) =>
        new(RunId(time), options, notifications is null || dryRun ? store : new NotifyingAuditStore(store, notifications), connectors, time, dryRun, Actor(), Environment.MachineName, Version);

    /// <summary>
    /// The notification dispatcher respond.yaml configures (null when it configures none), its URLs and keys read from the
    /// environment now: a variable named but unset stops the command before anything is done (exit 2). Delivery problems are
    /// written to standard error as they happen, or to <paramref name="log"/> once it gives a logger (the service's).
    /// </summary>
    public static NotificationDispatcher? Notifications(CliContext context, EngineOptions options, string nothing = "done", Func<Action<string>?>? log = null)
    {
        var gate = new object();
        var (dispatcher, problems) = NotificationDispatcher.Create(options.Notifications, Environment.GetEnvironmentVariable, context.Time, message =>
        {
            if (log?.Invoke() is { } logged) logged(message);
            else lock (gate) context.Error.WriteLine(Rendering.TerminalText.Escape($"respond: warning: {message}"));
        });
        return problems.IsEmpty ? dispatcher : throw new CliInputException($"nothing {nothing}: {string.Join("; ", problems)}");
    }

    private static IConnector Ad(ConnectorSettings settings, EngineOptions options, TimeProvider time)
    {
        var (ad, problems) = ResponseEngine.Connectors.ActiveDirectory.AdSettings.Read(settings.Settings);
        if (ad is null) throw new CliInputException(Prefixed("connectors.ad", problems));
        try
        {
            return ResponseEngine.Connectors.ActiveDirectory.AdConnector.Create(ad, options.Privileged, time, warn: message => Console.Error.WriteLine($"respond: warning: {message}"));
        }
        catch (ResponseEngine.Connectors.ActiveDirectory.AdConfigurationException e)
        {
            throw new CliInputException(e.Message);
        }
    }

    private static IConnector Okta(ConnectorSettings settings, EngineOptions options, TimeProvider time)
    {
        var (okta, problems) = ResponseEngine.Connectors.Okta.OktaSettings.Read(settings.Settings, Environment.GetEnvironmentVariable, File.ReadAllText);
        if (okta is null) throw new CliInputException(Prefixed("connectors.okta", problems));
        var http = new HttpClient { Timeout = Timeout.InfiniteTimeSpan };
        http.DefaultRequestHeaders.UserAgent.ParseAdd($"ResponseEngine/{Version}");
        return ResponseEngine.Connectors.Okta.OktaConnector.Create(okta, options.Privileged, time, http);
    }

    private static IConnector Entra(ConnectorSettings settings, EngineOptions options, TimeProvider time)
    {
        var (entra, problems) = ResponseEngine.Connectors.Entra.EntraSettings.Read(settings.Settings, Environment.GetEnvironmentVariable, File.ReadAllText);
        if (entra is null) throw new CliInputException(Prefixed("connectors.entra", problems));
        try
        {
            return ResponseEngine.Connectors.Entra.EntraConnector.Create(entra, options.Privileged, time);
        }
        catch (ArgumentException e)
        {
            throw new CliInputException(e.Message);
        }
    }

    private static string Prefixed(string key, IEnumerable<string> problems) =>
        string.Join("; ", problems.Select(p => p.StartsWith(key, StringComparison.Ordinal) ? p : $"{key}: {p}"));

    public static string Actor() =>
        Environment.GetEnvironmentVariable("RESPOND_ACTOR") ?? $"{Environment.UserName}@{Environment.MachineName}";

    private static string RunId(TimeProvider time) => $"{time.GetUtcNow():yyyyMMddTHHmmss}-{Guid.NewGuid().ToString("N")[..6]}";
}
