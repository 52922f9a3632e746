using System.Diagnostics;
using System.Diagnostics.Metrics;
using System.Reflection;
using ResponseEngine.Audit;
using ResponseEngine.Findings;
using ResponseEngine.Planning;

namespace ResponseEngine.Execution;

/// <summary>
/// The engine's traces and the one instrument only the executor can measure, named by OpenTelemetry conventions; the
/// service exports them (OTLP, Prometheus), a CLI run leaves them unobserved at no cost.
/// </summary>
public static class EngineTelemetry
{
    /// <summary>The ActivitySource and Meter name a host subscribes to.</summary>
    public const string Name = "ResponseEngine";

    private static readonly string Version =
        typeof(EngineTelemetry).Assembly.GetCustomAttribute<AssemblyInformationalVersionAttribute>()?.InformationalVersion.Split('+')[0] ?? "0.0.0";

    /// <summary>Spans: respond.run around a batch of findings, respond.guard around a guard phase, respond.action around one action's directory calls.</summary>
    public static ActivitySource Source { get; } = new(Name, Version);

    private static readonly Meter Meter = new(Name, Version);

    private static readonly Histogram<double> ActionDuration = Meter.CreateHistogram<double>("respond.action.duration", "s",
        "Seconds from an action's intent row to its outcome row: the directory's read, apply and verify, pacing and waiting for a slot");

    /// <summary>Records an action's outcome on the duration histogram, labelled by rule, provider, action and status.</summary>
    public static void ActionCompleted(Decision decision, AuditStatus status, TimeSpan elapsed)
    {
        if (!ActionDuration.Enabled) return;
        ActionDuration.Record(Math.Max(0, elapsed.TotalSeconds), Labels(decision, status));
    }

    /// <summary>The attributes every per-action instrument carries.</summary>
    public static TagList Labels(Decision decision, AuditStatus status)
    {
        ArgumentNullException.ThrowIfNull(decision);
        return new TagList
        {
            { "rule", decision.Rule.Id },
            { "provider", (decision.Identity?.Provider ?? decision.Finding.Subject.Provider).Name() },
            { "action", decision.ActionName ?? "none" },
            { "status", status.Name() },
        };
    }
}
