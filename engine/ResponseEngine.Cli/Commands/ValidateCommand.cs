using System.CommandLine;

namespace ResponseEngine.Cli.Commands;

/// <summary>`respond validate`: every error of the rule set at once, compiler-style.</summary>
internal static class ValidateCommand
{
    public static Command Create(CliContext context)
    {
        var rules = CommonOptions.Rules();
        var at = CommonOptions.At();
        var command = new Command("validate", """
            Check every rule file: YAML, fields, actions and parameters, conditions, tests.
            Prints every problem of the whole rule set in one run as
              path:line:col: error RE0xxx: message; hint
            Exit code 0 when there are no errors (warnings allowed), 2 otherwise.
            Error codes are listed in docs/diagnostics.md.

            Examples:
              respond validate
              respond validate --rules ../my-rules
            """)
        {
            rules,
            at,
        };
        command.SetAction(parse =>
        {
            var load = CommonOptions.LoadRules(parse.GetValue(rules)!, CommonOptions.Clock(context, parse.GetValue(at)));
            CommonOptions.Print(context.Output, load.Diagnostics, context.Color);
            context.Output.WriteLine(
                $"{CommonOptions.Plural(load.FileCount, "file")}, {CommonOptions.Plural(load.Rules.Length, "valid rule")}: " +
                $"{CommonOptions.Plural(load.ErrorCount, "error")}, {CommonOptions.Plural(load.WarningCount, "warning")}");
            return load.HasErrors ? ExitCodes.BadInput : ExitCodes.Ok;
        });
        return command;
    }
}
