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
        var rows = Providers.All.Select(provider =>
        {
            var settings = options.Connectors.GetValueOrDefault(provider) ?? ConnectorSettings.Local;
            var check = checks.GetValueOrDefault(provider);
            return new Row(provider.Name(), settings.Kind, check?.Reachable ?? true, check?.Took, EngineHost.SignsInAs(settings, options), check?.Problem,
                [.. needed[provider].Distinct().Order(StringComparer.Ordinal)]);
        }).ToList();

        if (format == "json")
        {
            context.Output.WriteLine(JsonSerializer.Serialize(rows.Select(r => new
            {
                provider = r.Provider, kind = r.Kind, reachable = r.Reachable, took_ms = r.Took is { } t ? (long?)t.TotalMilliseconds : null,
                signs_in_as = r.SignsInAs, problem = r.Problem, permissions_needed = r.Needed, permissions_granted = (string[]?)null,
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
            }

            output.WriteLine();
            output.WriteLine("Granted permissions are not read back yet: compare the list with the Entra app registration, the Okta admin role or scopes, and the AD delegation.");
        }

        return rows.All(r => r.Reachable) ? ExitCodes.Ok : ExitCodes.Failed;
    }

    private sealed record Row(string Provider, string Kind, bool Reachable, TimeSpan? Took, string SignsInAs, string? Problem, string[] Needed);
}
