using System.CommandLine;
using System.Text.Json;
using ResponseEngine.Configuration;
using ResponseEngine.Execution;
using ResponseEngine.Findings;

namespace ResponseEngine.Cli.Commands;

/// <summary>`respond doctor`: the checks `run` and `serve` make before deciding, as a table an operator can act on.</summary>
internal static class DoctorCommand
{
    private static readonly JsonSerializerOptions Indented = new() { WriteIndented = true };

    public static Command Create(CliContext context)
    {
        var config = EngineHost.Config();
        var rules = new Option<string?>("--rules", "-r") { Description = "Rules folder, for the permissions they need (default: `rules` in respond.yaml, else rules)", HelpName = "DIR" };
        var format = CommonOptions.Format("text", "json");
        var command = new Command("doctor", """
            Checks every connector respond.yaml configures the way `run` and `serve` do before deciding anything
            (sign in, one read, within execution.connect_timeout), and prints per provider: the connector, whether it
            answered and how fast, the account it signs in as, the cause when it did not answer, and the permissions
            the current rules need there (`respond permissions`). Providers without a connector use the local
            directory. Nothing is changed.
            Exit code 0 when every connector answers, 1 when one does not, 2 for bad configuration or rules.

            Examples:
              respond doctor
              respond doctor --config /etc/respond/respond.yaml --format json
            """)
        {
            config,
            rules,
            format,
        };
        command.SetAction((parse, cancellationToken) => RunAsync(context, parse.GetValue(config), parse.GetValue(rules), parse.GetValue(format)!, cancellationToken));
        return command;
    }

    private static async Task<int> RunAsync(CliContext context, string? configFile, string? rulesDirectory, string format, CancellationToken cancellationToken)
    {
        var options = EngineHost.LoadOptions(context, configFile);
        var load = CommonOptions.LoadRules(rulesDirectory ?? options.Rules, context.Time);
        CommonOptions.Print(context.Error, load.Diagnostics.Where(d => d.IsError), context.Color);
        if (load.HasErrors) return ExitCodes.BadInput;
        var needed = PermissionsCommand.Needs(load.Rules).ToLookup(n => n.Provider, n => n.Permission);

        var connectors = EngineHost.Connectors(options, context.Time);
        var checks = (await ConnectorCheck.CheckAllAsync(EngineHost.Configured(options, connectors), options.ConnectTimeout, context.Time, cancellationToken))
            .ToDictionary(c => c.Provider);
        var rows = new List<Row>();
        foreach (var provider in Providers.All)
        {
            var settings = options.Connectors.GetValueOrDefault(provider) ?? ConnectorSettings.Local;
            var check = checks.GetValueOrDefault(provider);
            string[] need = [.. needed[provider].Distinct().Order(StringComparer.Ordinal)];
            var reachable = check?.Reachable ?? true;
            var (granted, failure) = reachable && check is not null && connectors.TryGetValue(provider, out var connector) && connector is IGrantedPermissions grants
                ? await GrantedAsync(grants, options.ConnectTimeout, context.Time, cancellationToken)
                : (null, NotRead(settings.Kind, reachable));
            rows.Add(new Row(provider.Name(), settings.Kind, reachable, check?.Took, EngineHost.SignsInAs(settings, options), check?.Problem, need,
                granted is null ? null : [.. granted.Granted], granted?.Source ?? failure, granted is null ? null : [.. granted.Missing(need)]));
        }

        if (format == "json")
        {
            context.Output.WriteLine(JsonSerializer.Serialize(rows.Select(r => new
            {
                provider = r.Provider, kind = r.Kind, reachable = r.Reachable, took_ms = r.Took is { } t ? (long?)t.TotalMilliseconds : null,
                signs_in_as = r.SignsInAs, problem = r.Problem, permissions_needed = r.Needed, permissions_granted = r.Granted,
                permissions_granted_source = r.GrantedSource, permissions_missing = r.Missing,
            }), Indented));
        }
        else
        {
            var output = context.Output;
            output.WriteLine($"{"provider",-9} {"kind",-6} {"reachable",-10} {"took",7}  signs in as");
            foreach (var row in rows)
            {
                var took = row.Took is { } t ? $"{t.TotalMilliseconds:0} ms" : "-";
                output.WriteLine(Rendering.TerminalText.Escape($"{row.Provider,-9} {row.Kind,-6} {(row.Reachable ? "yes" : "NO"),-10} {took,7}  {row.SignsInAs}"));
                if (row.Problem is not null) output.WriteLine(Rendering.TerminalText.Escape($"          problem: {row.Problem}"));
                if (row.Needed.Length > 0) output.WriteLine($"          permissions the rules need: {string.Join(", ", row.Needed)}");
                if (row.Granted is not null) output.WriteLine(Rendering.TerminalText.Escape($"          granted ({row.GrantedSource}): {(row.Granted.Length == 0 ? "none" : string.Join(", ", row.Granted))}"));
                else if (row.GrantedSource is not null) output.WriteLine(Rendering.TerminalText.Escape($"          granted: not read back ({row.GrantedSource})"));
                if (row.Missing is { Length: > 0 } missing) output.WriteLine(Rendering.TerminalText.Escape($"          MISSING: {string.Join(", ", missing)}"));
            }
        }

        return rows.All(r => r.Reachable) ? ExitCodes.Ok : ExitCodes.Failed;
    }

    /// <summary>What the connector's account was granted, within the connect deadline; a failure to read it is said, not thrown.</summary>
    private static async Task<(GrantedPermissions? Granted, string? Failure)> GrantedAsync(IGrantedPermissions grants, TimeSpan deadline, TimeProvider time, CancellationToken cancellationToken)
    {
        using var timeout = new CancellationTokenSource(deadline, time);
        using var linked = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, timeout.Token);
        try
        {
            return (await grants.ReadGrantedAsync(linked.Token), null);
        }
        catch (Exception e) when (e is not OperationCanceledException || !cancellationToken.IsCancellationRequested)
        {
            return (null, "reading them failed: " + (e is OperationCanceledException ? $"no answer within {deadline.TotalSeconds:0.#} s" : e.Message));
        }
    }

    private static string? NotRead(string kind, bool reachable) => !reachable ? "the connector does not answer"
        : kind switch
        {
            "ldap" => "AD rights are access-control entries on the OUs and groups; docs/active-directory.md lists the delegation",
            _ => null,
        };

    private sealed record Row(string Provider, string Kind, bool Reachable, TimeSpan? Took, string SignsInAs, string? Problem, string[] Needed,
        string[]? Granted, string? GrantedSource, string[]? Missing);
}
