using System.Text.Json;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Console;
using OpenTelemetry.Metrics;
using OpenTelemetry.Resources;
using OpenTelemetry.Trace;
using Quartz;
using ResponseEngine.Service.Operations;
using ResponseEngine.Service.Pollers;
using ResponseEngine.Service.Processing;
using ResponseEngine.Service.Rules;
using ResponseEngine.Service.Scheduling;
using ResponseEngine.Service.Webhook;

namespace ResponseEngine.Service;

/// <summary>
/// `respond serve`: an ASP.NET Core host with the webhook, /healthz, /readyz and /metrics; the inbox worker; the rule
/// watcher; and Quartz running the reconciler, the pollers and the git pull. Stops gracefully on SIGTERM or Ctrl+C.
/// </summary>
public static class ServeHost
{
    private static readonly JsonSerializerOptions ReportJson = new() { PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower, WriteIndented = true };

    /// <summary>Builds the host; the caller runs it (tests run it in-process, `respond serve` until it is stopped).</summary>
    public static WebApplication Build(ServeSetup setup, RuleSetHolder? preloaded = null)
    {
        ArgumentNullException.ThrowIfNull(setup);
        var serve = setup.Options.Serve;
        var builder = WebApplication.CreateSlimBuilder(new WebApplicationOptions { ContentRootPath = Directory.GetCurrentDirectory(), Args = [] });
        builder.Logging.ClearProviders();
        if (setup.LogFormat == "text")
        {
            builder.Logging.AddConsole(o => o.FormatterName = EscapingTextFormatter.FormatterName)
                .AddConsoleFormatter<EscapingTextFormatter, ConsoleFormatterOptions>();
        }
        else
        {
            builder.Logging.AddJsonConsole(o =>
            {
                o.IncludeScopes = false;
                o.TimestampFormat = "yyyy-MM-ddTHH:mm:ss.fffZ";
                o.UseUtcTimestamp = true;
            });
        }

        builder.Logging.SetMinimumLevel(setup.LogLevel);
        builder.Services.Configure<Microsoft.Extensions.Logging.Console.ConsoleLoggerOptions>(o => o.LogToStandardErrorThreshold = LogLevel.Trace);
        builder.Logging.AddFilter("Microsoft.AspNetCore", LogLevel.Warning);
        builder.Logging.AddFilter("Quartz", LogLevel.Warning);
        builder.WebHost.UseUrls(serve.Listen);
        builder.WebHost.ConfigureKestrel(k =>
        {
            k.Limits.MaxRequestBodySize = FindingsEndpoint.DrainLimit(serve.MaxBodyBytes);
            k.AddServerHeader = false;
        });
        // The host waits for the inbox worker's actions in flight (execution.stop_grace) and their outcome rows.
        builder.Services.Configure<HostOptions>(o => o.ShutdownTimeout = setup.Options.StopGrace + TimeSpan.FromSeconds(10));

        var services = builder.Services;
        services.AddSingleton(setup);
        services.AddSingleton(setup.Time);
        services.AddSingleton<ServiceMetrics>();
        services.AddSingleton<InboxSignal>();
        services.AddSingleton<StoreHealth>();
        services.AddSingleton(sp => preloaded ?? new RuleSetHolder(setup.Options.Rules, setup.Time, sp.GetRequiredService<ILogger<RuleSetHolder>>(), sp.GetRequiredService<ServiceMetrics>()));
        services.AddSingleton<Readiness>();
        services.AddSingleton(new WebhookAuthenticator(setup.HmacSecret, setup.BearerToken, serve.ReplayWindow, setup.Time));
        services.AddSingleton(sp => new FindingsEndpoint(setup.Inbox, sp.GetRequiredService<WebhookAuthenticator>(), sp.GetRequiredService<ServiceMetrics>(),
            sp.GetRequiredService<InboxSignal>(), sp.GetRequiredService<ILogger<FindingsEndpoint>>(), serve.MaxBodyBytes));
        services.AddSingleton<PollerRegistry>();
        services.AddHostedService<InboxWorker>();
        if (serve.WatchRules)
        {
            services.AddHostedService(sp => new RuleWatcher(sp.GetRequiredService<RuleSetHolder>(), setup.Time, sp.GetRequiredService<ILogger<RuleWatcher>>(),
                TimeSpan.FromMilliseconds(300), TimeSpan.FromSeconds(30)));
        }

        services.ConfigureHttpJsonOptions(o => o.SerializerOptions.PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower);
        if (setup.Options.Console.Enabled) Console.ConsoleApi.AddConsole(services, setup);

        builder.AddQuartz(q => Schedule(q, setup));
        builder.AddQuartzHostedService(o => o.WaitForJobsToComplete = true);
        AddTelemetry(services, setup);

        var app = builder.Build();
        // Off, the console and its API are simply not there: every path of theirs answers 404.
        if (setup.Options.Console.Enabled)
        {
            Console.ConsoleApi.Map(app);
            Console.Pages.ConsolePages.Map(app);
        }
        var endpoint = app.Services.GetRequiredService<FindingsEndpoint>();
        app.MapPost("/v1/findings", (Delegate)endpoint.HandleAsync);
        app.MapGet("/healthz", () => Results.Text("ok\n"));
        app.MapGet("/readyz", async (Readiness readiness, CancellationToken ct) =>
        {
            var (ready, report) = await readiness.CheckAsync(ct);
            return Results.Json(report, ReportJson, statusCode: ready ? StatusCodes.Status200OK : StatusCodes.Status503ServiceUnavailable);
        });
        app.MapPrometheusScrapingEndpoint("/metrics");

        var holder = app.Services.GetRequiredService<RuleSetHolder>();
        if (holder.Current is null) holder.Reload(force: true);
        app.Lifetime.ApplicationStarted.Register(() =>
        {
            var address = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()?.Addresses.FirstOrDefault() ?? serve.Listen;
            app.Logger.LogInformation("respond serve {Instance} listening on {Address}; {Rules} rules; audit store {Store}", setup.Instance, address, holder.State.Count, setup.Store.GetType().Name);
            setup.Started?.Invoke(address);
        });
        return app;
    }

    /// <summary>
    /// OpenTelemetry by convention: the resource names the service (service.name respond, its version and instance), the
    /// engine's meter and spans plus ASP.NET Core, HttpClient (every Graph and Okta call) and runtime instrumentation;
    /// /metrics always (Prometheus), OTLP when OTEL_EXPORTER_OTLP_ENDPOINT is set (the standard OTEL_* variables configure it).
    /// </summary>
    private static void AddTelemetry(IServiceCollection services, ServeSetup setup)
    {
        var otlp = !string.IsNullOrWhiteSpace(Environment.GetEnvironmentVariable("OTEL_EXPORTER_OTLP_ENDPOINT"));
        services.AddOpenTelemetry()
            .ConfigureResource(r => r.AddService("respond", serviceVersion: setup.EngineVersion, serviceInstanceId: setup.Instance))
            .WithMetrics(m =>
            {
                m.AddMeter(ServiceMetrics.MeterName).AddAspNetCoreInstrumentation().AddHttpClientInstrumentation().AddRuntimeInstrumentation()
                    .AddPrometheusExporter();
                if (otlp) m.AddOtlpExporter();
            })
            .WithTracing(t =>
            {
                t.AddSource(Execution.EngineTelemetry.Name).AddAspNetCoreInstrumentation(o => o.Filter = http => http.Request.Path != "/metrics")
                    .AddHttpClientInstrumentation();
                if (otlp) t.AddOtlpExporter();
            });
    }

    /// <summary>Where migration V003 puts Quartz's tables.</summary>
    internal const string QuartzTablePrefix = "dbo.QRTZ_";

    /// <summary>
    /// Clustered: every instance shares the job store, and each trigger fires on one instance only. The tables are
    /// migration V003 (schemas/sqlserver), applied with the audit schema; Quartz only validates them at start.
    /// </summary>
    internal static void UseClusteredSqlServer(IPersistentStoreBuilder store, string connection)
    {
        store.UseSqlServer(connection);
        store.UseClustering(c => c.CheckinInterval = TimeSpan.FromSeconds(15));
        store.UseSystemTextJsonSerializer();
        store.ConfigureStore(o =>
        {
            o.TablePrefix = QuartzTablePrefix;
            o.SchemaProvisioning = SchemaProvisioning.Validate;
        });
    }

    private static void Schedule(IQuartzBuilder q, ServeSetup setup)
    {
        var serve = setup.Options.Serve;
        if (serve.Scheduler == "sqlserver")
        {
            q.UsePersistentStore(store => UseClusteredSqlServer(store, serve.SchedulerConnection ?? setup.Options.Audit.Connection));
        }
        else
        {
            q.UseInMemoryStore();
        }

        q.ScheduleJob<ReconcileQuartzJob>(t => t.WithIdentity("reconcile")
            .StartAt(setup.Time.GetUtcNow() + serve.ReconcileEvery)
            .WithSimpleSchedule(s => s.WithInterval(serve.ReconcileEvery).RepeatForever()),
            j => j.WithIdentity("reconcile"));
        if (serve.GitPullEvery is { } pull)
        {
            q.ScheduleJob<GitPullQuartzJob>(t => t.WithIdentity("rules-git-pull").StartNow()
                .WithSimpleSchedule(s => s.WithInterval(pull).RepeatForever()),
                j => j.WithIdentity("rules-git-pull"));
        }

        foreach (var poller in serve.Pollers)
        {
            q.ScheduleJob<PollQuartzJob>(t => t.WithIdentity("poll-" + poller.Name).StartNow()
                .WithSimpleSchedule(s => s.WithInterval(poller.Every).RepeatForever()),
                j => j.WithIdentity("poll-" + poller.Name).UsingJobData(PollQuartzJob.PollerKey, poller.Name));
        }
    }
}
