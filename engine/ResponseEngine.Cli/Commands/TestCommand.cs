using System.CommandLine;
using ResponseEngine.Cli.Rendering;
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
        var filter = new Option<string?>("--rule") { Description = "Only test rules whose id contains this text", HelpName = "TEXT" };
        var command = new Command("test", """
            Run the inline tests of every rule: each test's finding and identity go through the rule alone,
            and the actions it takes (after each action's preconditions) must equal the test's expect list.
            Prints each failure with the rule file, test name, expected and actual actions, and ends with
              N passed, N failed
            Exit code 0 when all pass, 1 when any fails, 2 when the rules do not load.

            Examples:
              respond test
              respond test --rule okta --verbose
            """)
        {
            rules,
            verbose,
            filter,
        };
        command.SetAction(parse =>
        {
            var load = CommonOptions.LoadRules(parse.GetValue(rules)!, context.Time);
            CommonOptions.Print(context.Error, load.Diagnostics, context.Color);
            if (load.HasErrors)
            {
                context.Error.WriteLine($"rules do not load ({CommonOptions.Plural(load.ErrorCount, "error")}); run `respond validate`");
                return ExitCodes.BadInput;
            }

            var selected = load.Rules.Where(r => parse.GetValue(filter) is not { } text || r.Id.Contains(text, StringComparison.OrdinalIgnoreCase));
            var results = new RuleTestRunner(PrivilegedPolicy.Default).Run(selected);
            var (pass, fail) = context.Color ? ("\u001b[32mPASS\u001b[0m", "\u001b[31mFAIL\u001b[0m") : ("PASS", "FAIL");
            foreach (var result in results)
            {
                if (result.Passed)
                {
                    if (parse.GetValue(verbose)) context.Output.WriteLine($"{pass} " + TerminalText.Escape($"{result.Rule.Id} › {result.Test.Name}"));
                    continue;
                }

                context.Output.WriteLine($"{fail} " + TerminalText.Escape($"{result.Test.Location}: {result.Rule.Id} › {result.Test.Name}"));
                context.Output.WriteLine(TerminalText.Escape($"       expected: {List(result.Expected)}"));
                context.Output.WriteLine(TerminalText.Escape($"       actual:   {List(result.Actual)}"));
                if (result.Problem is not null) context.Output.WriteLine(TerminalText.Escape($"       {result.Problem}"));
            }

            var failed = results.Count(r => !r.Passed);
            context.Output.WriteLine($"{results.Length - failed} passed, {failed} failed");
            return failed > 0 ? ExitCodes.Failed : ExitCodes.Ok;
        });
        return command;
    }

    private static string List(IReadOnlyCollection<string> actions) => actions.Count == 0 ? "(no actions)" : string.Join(", ", actions);
}
