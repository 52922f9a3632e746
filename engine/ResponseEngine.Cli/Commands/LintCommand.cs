using System.CommandLine;
using System.Text.Json.Nodes;
using ResponseEngine.Cli.Rendering;
using ResponseEngine.Policy.Linting;

namespace ResponseEngine.Cli.Commands;

/// <summary>`respond lint`: what a valid rule set gets wrong as a whole, with positions like `validate`.</summary>
internal static class LintCommand
{
    public static Command Create(CliContext context)
    {
        var rules = CommonOptions.Rules();
        var at = CommonOptions.At();
        var config = EngineHost.Config();
        var format = CommonOptions.Format(DiagnosticFormats.Names);
        var command = new Command("lint", """
            Analyse the rule set as a whole, where it can be decided from the rules alone:
              RE1101  two rules can decide disable_user and enable_user (or deactivate_user) for the same finding and identity
              RE1102  a rule is shadowed: another admits every finding and identity it does, with the same actions
              RE1103  a condition, or a branch of it, can never be true for a finding the rule's match admits
              RE1104  an observe rule is past its review date (expires) and still only observes
              RE1105  a rule lacks what lint: in respond.yaml asks for (expires for its mode, an owner from lint.owners)
            Conditions with calls or arithmetic are compared by their text; what cannot be decided is not reported.
            The rules must validate first (`respond validate`). Output as validate: text, json, sarif, github.
            Exit code 0 nothing found, 1 something found, 2 the rules or the configuration do not load.

            Examples:
              respond lint
              respond lint --format github
              respond lint --config respond.yaml --format sarif > lint.sarif
            """)
        {
            rules,
            at,
            config,
            format,
        };
        command.SetAction(parse =>
        {
            var options = EngineHost.LoadOptions(context, parse.GetValue(config));
            var time = CommonOptions.Clock(context, parse.GetValue(at));
            var load = CommonOptions.LoadRules(parse.GetValue(rules)!, time);
            var formatName = parse.GetValue(format)!;
            if (load.HasErrors)
            {
                DiagnosticFormats.Write(context.Output, formatName, ValidateCommand.Report("lint", load), context.Color);
                if (formatName == "text") context.Error.WriteLine("respond: the rules do not load; fix what `respond validate` reports, then lint");
                return ExitCodes.BadInput;
            }

            var found = new RuleLinter(options.Lint, time).Lint(load.Rules);
            var errors = found.Count(d => d.IsError);
            var summary = $"{CommonOptions.Plural(load.Rules.Length, "rule")} analysed: {CommonOptions.Plural(errors, "error")}, {CommonOptions.Plural(found.Length - errors, "warning")}";
            DiagnosticFormats.Write(context.Output, formatName, new DiagnosticReport("lint", found, summary, new JsonObject
            {
                ["rules"] = load.Rules.Length,
                ["errors"] = errors,
                ["warnings"] = found.Length - errors,
            }), context.Color);
            return found.IsEmpty ? ExitCodes.Ok : ExitCodes.Failed;
        });
        return command;
    }
}
