using System.CommandLine;
using System.Reflection;

namespace ResponseEngine.Cli.Commands;

/// <summary>`respond schema`: the JSON Schemas of the engine's inputs and outputs, for editors and pipelines.</summary>
internal static class SchemaCommand
{
    public static readonly string[] Names = ["finding", "rule", "directory", "plan", "plan-diff"];

    public static Command Create(CliContext context)
    {
        var name = new Argument<string?>("name")
        {
            Description = $"Which schema: {string.Join(", ", Names)}; omit to list them",
            Arity = ArgumentArity.ZeroOrOne,
        };
        name.AcceptOnlyFromAmong(Names);
        var command = new Command("schema", """
            Print a JSON Schema (draft-07): finding, rule, directory, plan or plan-diff. The same files live in schemas/.

            Examples:
              respond schema
              respond schema rule > rule.schema.json
            """)
        {
            name,
        };
        command.SetAction(parse =>
        {
            var which = parse.GetValue(name);
            if (which is null)
            {
                foreach (var item in Names) context.Output.WriteLine($"{item}  (schemas/{item}.schema.json)");
                return ExitCodes.Ok;
            }

            context.Output.WriteLine(Read(which));
            return ExitCodes.Ok;
        });
        return command;
    }

    public static string Read(string name)
    {
        using var stream = Assembly.GetExecutingAssembly().GetManifestResourceStream($"schemas/{name}.schema.json")
            ?? throw new InvalidOperationException($"schema {name} is not embedded");
        using var reader = new StreamReader(stream);
        return reader.ReadToEnd();
    }
}
