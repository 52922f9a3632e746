using System.CommandLine;
using System.Text.Json;
using ResponseEngine.Findings;

namespace ResponseEngine.Cli.Commands;

/// <summary>`respond permissions`: what the engine's accounts need, for the actions the current rules use.</summary>
internal static class PermissionsCommand
{
    private static readonly JsonSerializerOptions Indented = new() { WriteIndented = true };

    public static Command Create(CliContext context)
    {
        var rules = CommonOptions.Rules();
        var format = CommonOptions.Format("text", "json");
        var command = new Command("permissions", """
            The union of provider permissions the current rules need: Graph application permissions, Okta scopes,
            AD delegated rights, per provider, with the actions and rules that need each. Rules in mode disabled
            are left out.

            Examples:
              respond permissions
              respond permissions --format json
            """)
        {
            rules,
            format,
        };
        command.SetAction(parse =>
        {
            var load = CommonOptions.LoadRules(parse.GetValue(rules)!, context.Time);
            CommonOptions.Print(context.Error, load.Diagnostics.Where(d => d.IsError), context.Color);
            if (load.HasErrors) return ExitCodes.BadInput;
            var needs = Needs(load.Rules);
            if (parse.GetValue(format) == "json")
            {
                context.Output.WriteLine(JsonSerializer.Serialize(needs.GroupBy(n => n.Provider.Name()).ToDictionary(g => g.Key,
                    g => g.Select(n => new { permission = n.Permission, actions = n.Actions, rules = n.Rules })), Indented));
                return ExitCodes.Ok;
            }

            foreach (var provider in needs.GroupBy(n => n.Provider))
            {
                context.Output.WriteLine($"{provider.Key.Name()}:");
                foreach (var need in provider) context.Output.WriteLine($"  {need.Permission}  — {string.Join(", ", need.Actions)} ({need.Rules.Count} rule{(need.Rules.Count == 1 ? "" : "s")})");
            }

            return ExitCodes.Ok;
        });
        return command;
    }

    /// <summary>Per provider and permission, the actions and rules (not disabled) that need it.</summary>
    public static List<(Provider Provider, string Permission, List<string> Actions, List<string> Rules)> Needs(IEnumerable<Rules.Rule> rules) =>
        rules.Where(r => r.Mode != Rules.RuleMode.Disabled)
            .SelectMany(r => r.Actions.SelectMany(a => r.Match.Providers.Select(p => (Provider: p, a.Action, Rule: r.Id))))
            .SelectMany(x => x.Action.Permissions.GetValueOrDefault(x.Provider).Select(permission => (x.Provider, Permission: permission, x.Action.Name, x.Rule)))
            .GroupBy(x => (x.Provider, x.Permission))
            .OrderBy(g => g.Key.Provider).ThenBy(g => g.Key.Permission, StringComparer.Ordinal)
            .Select(g => (g.Key.Provider, g.Key.Permission, Actions: g.Select(x => x.Name).Distinct().Order(StringComparer.Ordinal).ToList(),
                Rules: g.Select(x => x.Rule).Distinct().Order(StringComparer.Ordinal).ToList()))
            .ToList();
}
