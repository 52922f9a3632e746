using System.CommandLine;
using System.Collections.Immutable;
using System.Text.Json.Nodes;
using ResponseEngine.Cli.Rendering;
using ResponseEngine.Diagnostics;
using ResponseEngine.Identities;
using ResponseEngine.Policy.Testing;

namespace ResponseEngine.Cli.Commands;

/// <summary>`respond test`: runs every rule's inline tests.</summary>
internal static class TestCommand
{
    public static Command Create(CliContext context)
    {
        var rules = CommonOptions.Rules();
        var verbose = new Option<bool>("--verbose", "-v") { Description = "Also list the tests that pass" };
        var filter = new Option<string?>("--rule") { Description = "Only test rules whose id contains this text (an error when none does)", HelpName = "TEXT" };
        var format = CommonOptions.Format(DiagnosticFormats.Names);
        var coverage = new Option<bool>("--coverage")
        {
            Description = "Also report, per rule, which condition outcomes (each comparison true and false), types and actions the tests exercised, and the rules with no test that expects no action",
        };
        var command = new Command("test", """
            Run the inline tests of every rule: each test's finding and identity go through the rule alone,
            and the actions it takes (after each action's preconditions) must equal the test's expect list.
            Prints each failure with the rule file, test name, expected and actual actions, and ends with
              N passed, N failed
            --format json for programs, sarif (SARIF 2.1.0) for code scanning, github for annotations in GitHub Actions
            (each failing test at its place in the rule file, code RE0050).
            --coverage adds, per rule, how often each atomic condition was true and false under the tests, which of
            the match's types and the rule's actions a test exercises, and the rules without a negative test
            (text, or "coverage" in json).
            Exit code 0 when all pass, 1 when any fails, 2 when the rules do not load or --rule matches no rule.

            Examples:
              respond test
              respond test --rule okta --verbose
              respond test --format github
              respond test --coverage
            """)
        {
            rules,
            verbose,
            filter,
            format,
            coverage,
        };
        command.SetAction(parse =>
        {
            var formatName = parse.GetValue(format)!;
            var text = formatName == "text";
            var load = CommonOptions.LoadRules(parse.GetValue(rules)!, context.Time);
            if (load.HasErrors)
            {
                if (text)
                {
                    CommonOptions.Print(context.Error, load.Diagnostics, context.Color);
                    context.Error.WriteLine($"rules do not load ({CommonOptions.Plural(load.ErrorCount, "error")}); run `respond validate`");
                }
                else
                {
                    DiagnosticFormats.Write(context.Output, formatName, ValidateCommand.Report("test", load), context.Color);
                }

                return ExitCodes.BadInput;
            }

            if (text) CommonOptions.Print(context.Error, load.Diagnostics, context.Color);
            var selected = load.Rules.Where(r => parse.GetValue(filter) is not { } part || r.Id.Contains(part, StringComparison.OrdinalIgnoreCase)).ToList();
            if (selected.Count == 0)
            {
                context.Error.WriteLine(TerminalText.Escape(
                    $"respond: --rule '{parse.GetValue(filter)}' matches none of the {CommonOptions.Plural(load.Rules.Length, "rule")}; it selects rules whose id contains the text (`respond validate` lists the files)"));
                return ExitCodes.BadInput;
            }

            var results = new RuleTestRunner(PrivilegedPolicy.Default).Run(selected);
            var failed = results.Count(r => !r.Passed);
            var summary = $"{results.Length - failed} passed, {failed} failed";
            var measured = parse.GetValue(coverage) ? new RuleCoverageMeter(PrivilegedPolicy.Default).Measure(selected) : (ImmutableArray<RuleCoverage>?)null;
            if (text)
            {
                WriteText(context, results, parse.GetValue(verbose));
                if (measured is { } rulesCoverage) CoverageText.Write(context.Output, rulesCoverage);
                context.Output.WriteLine(summary);
            }
            else
            {
                var diagnostics = load.Diagnostics.Concat(results.Where(r => !r.Passed).Select(Failure)).ToList();
                var report = new DiagnosticReport("test", diagnostics, summary, new JsonObject
                {
                    ["rules"] = selected.Count,
                    ["passed"] = results.Length - failed,
                    ["failed"] = failed,
                })
                {
                    Details = new JsonObject
                    {
                        ["results"] = new JsonArray([.. results.Select(Json)]),
                        ["coverage"] = measured is { } rulesCoverage ? CoverageText.Json(rulesCoverage) : null,
                    },
                };
                DiagnosticFormats.Write(context.Output, formatName, report, context.Color);
            }

            return failed > 0 ? ExitCodes.Failed : ExitCodes.Ok;
        });
        return command;
    }

    private static void WriteText(CliContext context, ImmutableArray<RuleTestResult> results, bool verbose)
    {
        var (pass, fail) = context.Color ? ("\u001b[32mPASS\u001b[0m", "\u001b[31mFAIL\u001b[0m") : ("PASS", "FAIL");
        foreach (var result in results)
        {
            if (result.Passed)
            {
                if (verbose) context.Output.WriteLine($"{pass} " + TerminalText.Escape($"{result.Rule.Id} › {result.Test.Name}"));
                continue;
            }

            context.Output.WriteLine($"{fail} " + TerminalText.Escape($"{result.Test.Location}: {result.Rule.Id} › {result.Test.Name}"));
            context.Output.WriteLine(TerminalText.Escape($"       expected: {List(result.Expected)}"));
            context.Output.WriteLine(TerminalText.Escape($"       actual:   {List(result.Actual)}"));
            if (result.Problem is not null) context.Output.WriteLine(TerminalText.Escape($"       {result.Problem}"));
        }
    }

    /// <summary>A failing test as a diagnostic at the test, so SARIF and GitHub annotations point at the line to fix.</summary>
    private static Diagnostic Failure(RuleTestResult result) =>
        Diagnostic.Error(DiagnosticCodes.TestFailed, result.Test.Location,
            $"test '{result.Test.Name}' of rule '{result.Rule.Id}' fails: expected {List(result.Expected)}, actual {List(result.Actual)}",
            result.Problem);

    private static JsonNode Json(RuleTestResult result) => new JsonObject
    {
        ["rule"] = result.Rule.Id,
        ["test"] = result.Test.Name,
        ["file"] = result.Test.Location.File,
        ["line"] = result.Test.Location.Line,
        ["column"] = result.Test.Location.Column,
        ["passed"] = result.Passed,
        ["expected"] = new JsonArray([.. result.Expected.Select(e => (JsonNode)e)]),
        ["actual"] = new JsonArray([.. result.Actual.Select(a => (JsonNode)a)]),
        ["problem"] = result.Problem,
    };

    private static string List(IReadOnlyCollection<string> actions) => actions.Count == 0 ? "(no actions)" : string.Join(", ", actions);
}
