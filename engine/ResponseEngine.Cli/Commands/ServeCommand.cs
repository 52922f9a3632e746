using System.CommandLine;
using ResponseEngine.Audit;
using ResponseEngine.Configuration;
using ResponseEngine.Findings;
using ResponseEngine.Inbox;
using ResponseEngine.Service;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using ResponseEngine.Service.Pollers;

namespace ResponseEngine.Cli.Commands;

/// <summary>`respond serve`: continuous enforcement — webhook, pollers, schedules, hot rule reload.</summary>
internal static class ServeCommand
{
    public static Command Create(CliContext context)
    {
        var config = EngineHost.Config();
        var rules = new Option<string?>("--rules", "-r") { Description = "Rules folder (default: `rules` in respond.yaml, else rules)", HelpName = "DIR" };
        var logFormat = new Option<string>("--log-format")
        {
            Description = "Log lines on standard error: json (default) or text; RESPOND_LOG_FORMAT sets it too. RESPOND_LOG_LEVEL sets the level (Information by default)",
            DefaultValueFactory = _ => Environment.GetEnvironmentVariable("RESPOND_LOG_FORMAT") is { Length: > 0 } f ? f : "json",
            HelpName = "FORMAT",
        };
        logFormat.AcceptOnlyFromAmong("json", "text");
        var listen = new Option<string?>("--listen") { Description = "Address to listen on (default: serve.listen, else http://127.0.0.1:8080; port 0 picks a free one)", HelpName = "URL" };
        var command = new Command("serve", """
            Continuous enforcement: an HTTP service that takes findings as they happen and acts on them under the same
            guards as `respond run`. POST /v1/findings (one finding or an array) is authenticated by an HMAC-SHA256
            signature (X-Respond-Timestamp, X-Respond-Signature: sha256=HEX of "timestamp.body", 5-minute replay window)
            or a bearer token, validated record by record, and committed to the inbox in the audit database before 202.
            The inbox is processed through the executor (guards, intent, apply, verify, outcome); several instances can
            share one store. Pollers (watched folder, Okta System Log, Microsoft Graph alerts and risky users), the
            reconciler and `git pull` of the rules run on Quartz schedules. A changed rule set replaces the running one
            only when it validates and its tests pass. /healthz, /readyz (rules, audit store, connectors) and /metrics
            (Prometheus). SIGTERM or Ctrl+C stops taking work and leaves unfinished intents to the reconciler.
            Secrets come from the environment: RESPOND_WEBHOOK_SECRET and/or RESPOND_WEBHOOK_TOKEN (names set in
            serve.auth). Exit code 0 after a clean stop; 1 when the audit store cannot be opened; 2 for invalid
            configuration or rules, or when no webhook secret or token is set.

            Examples:
              RESPOND_WEBHOOK_SECRET=… respond serve
              respond serve --config /etc/respond/respond.yaml --listen http://0.0.0.0:8080
            """)
        {
            config,
            rules,
            listen,
            logFormat,
        };
        command.SetAction((parse, cancellationToken) => RunAsync(context, parse.GetValue(config), parse.GetValue(rules), parse.GetValue(listen), parse.GetValue(logFormat)!, cancellationToken));
        return command;
    }

    private static async Task<int> RunAsync(CliContext context, string? configFile, string? rulesDirectory, string? listen, string logFormat, CancellationToken cancellationToken)
    {
        var logLevel = Microsoft.Extensions.Logging.LogLevel.Information;
        if (Environment.GetEnvironmentVariable("RESPOND_LOG_LEVEL") is { Length: > 0 } level
            && (!Enum.TryParse(level, ignoreCase: true, out logLevel) || !Enum.IsDefined(logLevel) || logLevel == Microsoft.Extensions.Logging.LogLevel.None))
        {
            throw new CliInputException($"RESPOND_LOG_LEVEL is '{level}'; use one of Trace, Debug, Information, Warning, Error, Critical");
        }

        var options = EngineHost.LoadOptions(context, configFile);
        if (rulesDirectory is not null) options = options with { Rules = rulesDirectory };
        if (listen is not null) options = options with { Serve = options.Serve with { Listen = listen } };
        var secret = Environment.GetEnvironmentVariable(options.Serve.HmacSecretEnv);
        var token = Environment.GetEnvironmentVariable(options.Serve.TokenEnv);
        if (string.IsNullOrEmpty(secret) && string.IsNullOrEmpty(token))
        {
            throw new CliInputException($"nothing started: set {options.Serve.HmacSecretEnv} (HMAC secret) or {options.Serve.TokenEnv} (bearer token); an unauthenticated webhook is never served");
        }

        var (consoleCredentials, consoleProblems) = Service.Console.ConsoleCredentials.FromEnvironment(options.Console, Environment.GetEnvironmentVariable);
        if (consoleProblems.Count > 0)
        {
            throw new CliInputException($"nothing started: {string.Join("; ", consoleProblems)} (set it, or turn the console off with console.enabled: false)");
        }

        if (options.Console.Enabled && KeyDirectoryProblem(ConsoleOptions.KeyDirectoryFor(options)) is { } keys)
        {
            throw new CliInputException($"nothing started: {keys}; set console.key_directory in respond.yaml to a directory the service can write (or turn the console off with console.enabled: false)");
        }

        if (options.Console.Enabled && ConsoleOptions.PlanReportsFor(options) is { } reports && PlanReportsProblem(reports) is { } unreadable)
        {
            throw new CliInputException($"nothing started: {unreadable}; set console.plan_reports in respond.yaml to the folder `respond plan --format json --out` writes to (create it first), or remove the setting");
        }

        var load = CommonOptions.LoadRules(options.Rules, context.Time);
        CommonOptions.Print(context.Error, load.Diagnostics.Where(d => d.IsError), context.Color);
        if (load.RuleSet is null)
        {
            context.Error.WriteLine($"nothing started: the rules have {CommonOptions.Plural(load.ErrorCount, "error")} (run `respond validate`)");
            return ExitCodes.BadInput;
        }

        var failing = new Policy.Testing.RuleTestRunner(Identities.PrivilegedPolicy.Default).Run(load.Rules).Count(r => !r.Passed);
        if (failing > 0)
        {
            context.Error.WriteLine($"nothing started: {CommonOptions.Plural(failing, "rule test")} fail (run `respond test`)");
            return ExitCodes.BadInput;
        }

        if (PortInUse(options.Serve.Listen) is { } busy)
        {
            context.Error.WriteLine($"respond serve: nothing started: cannot listen on {options.Serve.Listen}: {busy}; stop the other process or choose another address with serve.listen or --listen");
            return ExitCodes.Failed;
        }

        // Delivery problems go to the service's log (JSON or text, as configured) once it exists; before that, to standard error.
        Action<string>? serviceLog = null;
        await using var notifications = EngineHost.Notifications(context, options, "started", () => Volatile.Read(ref serviceLog));
        var store = await EngineHost.OpenStoreOrReportAsync(context, options, "started", cancellationToken);
        if (store is null) return ExitCodes.Failed;

        await using (store)
        {
            var connectors = EngineHost.Connectors(options, context.Time);

            var setup = new ServeSetup(options, store, (IFindingInbox)store, connectors, () => EngineHost.Run(options, store, connectors, context.Time, dryRun: false, notifications),
                context.Time, EngineHost.Version)
            {
                HmacSecret = secret,
                BearerToken = token,
                ConsoleCredentials = consoleCredentials,
                LogFormat = logFormat,
                LogLevel = logLevel,
                Started = address => context.Output.WriteLine($"respond serve: listening on {address}"),
                PollerHttp = poller => PollerClient(poller, options, context.Time),
            };
            var app = ServeHost.Build(setup);
            var notificationLogger = app.Services.GetRequiredService<Microsoft.Extensions.Logging.ILoggerFactory>().CreateLogger("ResponseEngine.Notifications");
            Volatile.Write(ref serviceLog, message => Microsoft.Extensions.Logging.LoggerExtensions.LogWarning(notificationLogger, "{Message}", message));
            await app.StartAsync(cancellationToken);

            // A connector that does not answer is said at once, one line each, while the service starts (a directory may be
            // briefly away, and the check must not delay listening); /readyz reports it and its decisions fail closed until it answers.
            var check = EngineHost.CheckConnectorsAsync(context, options, connectors, "warning (serving anyway; /readyz reports it and its decisions fail closed)", cancellationToken, notifications);
            await app.WaitForShutdownAsync(cancellationToken);
            try
            {
                await check;
            }
            catch (OperationCanceledException)
            {
                // Stopped before the check finished.
            }

            context.Output.WriteLine("respond serve: stopped");
            return ExitCodes.Ok;
        }
    }

    /// <summary>Why the console's data-protection key directory cannot be created or written, or null when it can: said before anything starts.</summary>
    internal static string? KeyDirectoryProblem(string directory)
    {
        try
        {
            Directory.CreateDirectory(directory);
            var probe = Path.Combine(directory, $".respond-write-check-{Environment.ProcessId}");
            File.WriteAllText(probe, "");
            File.Delete(probe);
            return null;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or NotSupportedException or ArgumentException)
        {
            return $"the console key directory {directory} cannot be written ({e.Message})";
        }
    }

    /// <summary>Why the console's plan report folder cannot be listed, or null when it can: said before anything starts.</summary>
    internal static string? PlanReportsProblem(string directory)
    {
        if (File.Exists(directory)) return $"the console's plan report folder {(global::ResponseEngine.Diagnostics.Printable.Escape(directory))} is a file, not a folder";
        if (!Directory.Exists(directory)) return $"the console's plan report folder {(global::ResponseEngine.Diagnostics.Printable.Escape(directory))} does not exist";
        try
        {
            using var entries = Directory.EnumerateFileSystemEntries(directory).GetEnumerator();
            entries.MoveNext();
            return null;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return $"the console's plan report folder {(global::ResponseEngine.Diagnostics.Printable.Escape(directory))} cannot be read ({e.Message})";
        }
    }

    /// <summary>Why the listen address cannot be bound (in use, not allowed), or null when it can: checked before the database is opened or migrated.</summary>
    internal static string? PortInUse(string listen)
    {
        if (!Uri.TryCreate(listen.Replace("://*:", "://0.0.0.0:", StringComparison.Ordinal).Replace("://+:", "://0.0.0.0:", StringComparison.Ordinal), UriKind.Absolute, out var uri) || uri.Port <= 0)
        {
            return null; // Kestrel reports what it cannot parse
        }

        var address = uri.Host is "localhost" ? System.Net.IPAddress.Loopback
            : System.Net.IPAddress.TryParse(uri.Host.Trim('[', ']'), out var parsed) ? parsed : null;
        if (address is null) return null;
        try
        {
            var probe = new System.Net.Sockets.TcpListener(address, uri.Port) { ExclusiveAddressUse = true };
            probe.Start();
            probe.Stop();
            return null;
        }
        catch (System.Net.Sockets.SocketException e)
        {
            return e.SocketErrorCode == System.Net.Sockets.SocketError.AddressAlreadyInUse ? $"port {uri.Port} is already in use" : e.Message;
        }
    }

    private static HttpClient PollerClient(PollerOptions poller, EngineOptions options, TimeProvider time)
    {
        var agent = $"ResponseEngine/{EngineHost.Version}";
        if (poller.Kind == "okta_logs")
        {
            var settings = options.Connectors.GetValueOrDefault(Provider.Okta);
            var (okta, problems) = ResponseEngine.Connectors.Okta.OktaSettings.Read(settings?.Settings ?? System.Collections.Immutable.ImmutableDictionary<string, string>.Empty,
                Environment.GetEnvironmentVariable, File.ReadAllText);
            if (okta is null) throw new InvalidOperationException("the okta_logs poller reads the org and token of connectors.okta: " + string.Join("; ", problems));
            if (okta.ApiToken is null) throw new InvalidOperationException("the okta_logs poller needs connectors.okta auth: api_token (service apps are not supported by the poller yet)");
            return PollerHttp.Okta(okta.BaseUrl, okta.ApiToken, agent);
        }

        return PollerHttp.Graph(poller, Environment.GetEnvironmentVariable, time, agent);
    }
}
