using System.CommandLine;
using System.Text.Json;
using ResponseEngine.Actions;
using ResponseEngine.Findings;

namespace ResponseEngine.Cli.Commands;

/// <summary>`respond actions`: the catalogue, with parameters, preconditions, permissions and undo.</summary>
internal static class ActionsCommand
{
    private static readonly JsonSerializerOptions Indented = new() { WriteIndented = true };

    public static Command Create(CliContext context)
    {
        var format = CommonOptions.Format("text", "json");
        var command = new Command("actions", """
            List the action catalogue: for each action its providers, parameters, preconditions, the
            permissions the engine's account needs per provider, whether it is destructive, and how it is undone.

            Examples:
              respond actions
              respond actions --format json | jq '.[].name'
            """)
        {
            format,
        };
        command.SetAction(parse =>
        {
            if (parse.GetValue(format) == "json") WriteJson(context.Output);
            else WriteText(context.Output);
            return ExitCodes.Ok;
        });
        return command;
    }

    private static void WriteText(TextWriter output)
    {
        foreach (var action in ActionCatalogue.Default.All)
        {
            output.WriteLine($"{action.Name}  [{string.Join(", ", action.Providers.Select(p => p.Name()))}]{(action.Destructive ? "  destructive" : "")}");
            output.WriteLine($"  {action.Summary}");
            foreach (var parameter in action.Parameters)
            {
                var only = parameter.OnlyFor.IsEmpty ? "" : $" (only {string.Join(", ", parameter.OnlyFor.Select(p => p.Name()))})";
                output.WriteLine($"  with {parameter.Name}: {parameter.TypeName}{(parameter.Required ? ", required" : "")}{only} — {parameter.Description}");
            }

            foreach (var precondition in action.Preconditions) output.WriteLine($"  precondition: {precondition}");
            foreach (var (provider, permissions) in action.Permissions.OrderBy(p => p.Key))
            {
                output.WriteLine($"  needs ({provider.Name()}): {string.Join("; ", permissions)}");
            }

            output.WriteLine($"  undo: {(action.Reversal.Reversible ? action.Reversal.How : "irreversible — " + action.Reversal.How)}");
            output.WriteLine();
        }
    }

    private static void WriteJson(TextWriter output)
    {
        var items = ActionCatalogue.Default.All.Select(a => new
        {
            name = a.Name,
            summary = a.Summary,
            providers = a.Providers.Select(p => p.Name()),
            destructive = a.Destructive,
            parameters = a.Parameters.Select(p => new
            {
                name = p.Name,
                type = p.TypeName,
                required = p.Required,
                only_for = p.OnlyFor.Select(x => x.Name()),
                description = p.Description,
            }),
            preconditions = a.Preconditions,
            permissions = a.Permissions.OrderBy(p => p.Key).ToDictionary(p => p.Key.Name(), p => p.Value),
            reversible = a.Reversal.Reversible,
            undo = a.Reversal.How,
        });
        output.WriteLine(JsonSerializer.Serialize(items, Indented));
    }
}
