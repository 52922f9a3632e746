using System.CommandLine;
using System.Text.Json.Nodes;
using ResponseEngine.Cli.Rendering;
using ResponseEngine.Policy.Rules;

namespace ResponseEngine.Cli.Commands;

/// <summary>`respond validate`: every error of the rule set at once, compiler-style.</summary>
internal static class ValidateCommand
{
    public static Command Create(CliContext context)
    {
        var rules = CommonOptions.Rules();
        var at = CommonOptions.At();
        var format = CommonOptions.Format(DiagnosticFormats.Names);
        var command = new Command("validate", """
            Check every rule file: YAML, fields, actions and parameters, conditions, tests.
            Prints every problem of the whole rule set in one run as
              path:line:col: error RE0xxx: message; hint
            and ends with the count of files, valid and invalid rules, errors and warnings.
            --rules takes the rules folder or one rule file.
            --format json for programs, sarif (SARIF 2.1.0) for code scanning, github for annotations in GitHub Actions.
            Exit code 0 when there are no errors (warnings allowed), 2 otherwise.
            Error codes are listed in docs/diagnostics.md.

            Examples:
              respond validate
              respond validate --rules rules/ad/my-new-rule.yaml
              respond validate --format github
              respond validate --format sarif > respond.sarif
            """)
        {
            rules,
            at,
            format,
        };
        command.SetAction(parse =>
        {
            var load = CommonOptions.LoadRules(parse.GetValue(rules)!, CommonOptions.Clock(context, parse.GetValue(at)));
            DiagnosticFormats.Write(context.Output, parse.GetValue(format)!, Report("validate", load), context.Color);
            return load.HasErrors ? ExitCodes.BadInput : ExitCodes.Ok;
        });
        return command;
    }

    /// <summary>The load's diagnostics and its counts: files, rules that loaded without error, files with errors.</summary>
    public static DiagnosticReport Report(string command, RuleLoad load) =>
        new(command, load.Diagnostics, SummaryLine(load), new JsonObject
        {
            ["files"] = load.FileCount,
            ["valid_rules"] = load.ValidRuleCount,
            ["invalid_files"] = load.InvalidFileCount,
            ["errors"] = load.ErrorCount,
            ["warnings"] = load.WarningCount,
        });

    public static string SummaryLine(RuleLoad load) =>
        $"{CommonOptions.Plural(load.FileCount, "file")}: {CommonOptions.Plural(load.ValidRuleCount, "valid rule")}, {load.InvalidFileCount} invalid; " +
        $"{CommonOptions.Plural(load.ErrorCount, "error")}, {CommonOptions.Plural(load.WarningCount, "warning")}";
}
