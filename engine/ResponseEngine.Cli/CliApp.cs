using System.CommandLine;
using ResponseEngine.Cli.Commands;

namespace ResponseEngine.Cli;

/// <summary>Exit codes shared by every command.</summary>
public static class ExitCodes
{
    public const int Ok = 0;
    public const int Failed = 1;
    public const int BadInput = 2;
}

/// <summary>The `respond` command line; runs in-process for tests with any writers.</summary>
public static class CliApp
{
    private static void Summarise(Command command, Dictionary<Command, string> full)
    {
        foreach (var sub in command.Subcommands)
        {
            if (sub.Description is { } text)
            {
                full[sub] = text;
                sub.Description = Summaries.TryGetValue(sub.Name, out var summary) && command is RootCommand ? summary : FirstSentence(text);
            }

            Summarise(sub, full);
        }
    }

    private static readonly Dictionary<string, string> Summaries = new(StringComparer.Ordinal)
    {
        ["validate"] = "Check every rule file and report every error at once",
        ["test"] = "Run every rule's inline tests",
        ["lint"] = "Rule-set analysis: contradicting, shadowed and unreachable rules, review dates, policy",
        ["plan"] = "Dry-run: what the rules would do, per identity, and why (--base: the effect of a rule change)",
        ["run"] = "Ingest, decide, guard, apply and audit: the main job",
        ["doctor"] = "Check that every configured connector answers, and what it needs",
        ["reject"] = "Reject a decision held for approval",
        ["approvals"] = "Decisions waiting for approval",
        ["serve"] = "Continuous enforcement: webhook, pollers, schedules, hot rule reload",
        ["audit"] = "Read, export and verify the audit trail",
        ["inbox"] = "List and resubmit the records `respond serve` quarantined",
        ["breaker"] = "Show or re-arm the blast-radius breaker",
        ["approve"] = "Approve a decision held for approval",
        ["undo"] = "Reverse an action from its recorded prior state",
        ["snapshot"] = "Write the directory state to a snapshot file",
        ["permissions"] = "The provider permissions the current rules need",
        ["actions"] = "The action catalogue: providers, parameters, preconditions, permissions, undo",
        ["schema"] = "Print a JSON Schema",
    };

    private static string FirstSentence(string text)
    {
        var paragraph = string.Join(' ', text.Split('\n').Select(l => l.Trim()).TakeWhile(l => l.Length > 0));
        var end = paragraph.IndexOf(". ", StringComparison.Ordinal);
        var colon = paragraph.IndexOf(": ", StringComparison.Ordinal);
        if (colon > 0 && (end < 0 || colon < end)) end = colon;
        return end > 0 ? paragraph[..end] : paragraph.TrimEnd('.');
    }

    public static int Run(string[] args, TextWriter output, TextWriter error, TimeProvider? time = null)
    {
        var context = new CliContext(output, error, time ?? TimeProvider.System);
        var root = new RootCommand("""
            ResponseEngine: policy-as-code automated response for identity threats.
            Rules in git decide what to do about identities named in detections and posture findings;
            a guarded executor applies them to Active Directory, Entra ID and Okta, or reports what it would do.

            Examples:
              respond validate --rules rules
              respond test --rules rules
              respond plan --findings samples/findings --directory samples/directory.json
              respond run --once
              respond audit list
              respond actions
            """)
        {
            ValidateCommand.Create(context),
            TestCommand.Create(context),
            LintCommand.Create(context),
            PlanCommand.Create(context),
            RunCommand.Create(context),
            ServeCommand.Create(context),
            AuditCommand.Create(context),
            InboxCommand.Create(context),
            OperatorCommands.Breaker(context),
            OperatorCommands.Approve(context),
            OperatorCommands.Reject(context),
            OperatorCommands.Approvals(context),
            OperatorCommands.Undo(context),
            SnapshotCommand.Create(context),
            PermissionsCommand.Create(context),
            DoctorCommand.Create(context),
            ActionsCommand.Create(context),
            SchemaCommand.Create(context),
        };

        // Lists of subcommands show one line each; the command asked about shows its whole description and examples.
        var full = new Dictionary<Command, string>();
        Summarise(root, full);
        var parse = root.Parse(args);
        if (full.TryGetValue(parse.CommandResult.Command, out var description)) parse.CommandResult.Command.Description = description;
        if (parse.Errors.Count > 0)
        {
            foreach (var problem in parse.Errors) error.WriteLine($"respond: {problem.Message}");
            error.WriteLine("Run 'respond --help' (or 'respond COMMAND --help') for usage.");
            return ExitCodes.BadInput;
        }

        try
        {
            var invocation = new InvocationConfiguration { Output = output, Error = error, EnableDefaultExceptionHandler = false };

            // `serve` stops gracefully on SIGTERM (the action in flight writes its outcome, leases are given back) within the
            // host's 30-second shutdown window; the default 2 seconds would end the process in the middle of that.
            if (parse.CommandResult.Command.Name == "serve") invocation.ProcessTerminationTimeout = TimeSpan.FromSeconds(45);
            return parse.Invoke(invocation);
        }
        catch (CliInputException e)
        {
            error.WriteLine(Rendering.TerminalText.Escape($"respond: {e.Message}"));
            return ExitCodes.BadInput;
        }
        catch (OperationCanceledException)
        {
            error.WriteLine("respond: cancelled; actions already started wrote their outcome or are left to the reconciler");
            return ExitCodes.Failed;
        }
        catch (Exception e)
        {
            // The last line of defence: a fault no command handled is a bug, said in one line rather than a stack trace.
            error.WriteLine(Rendering.TerminalText.Escape($"respond: stopped by an unexpected error (a bug; please report it): {e.GetType().Name}: {e.Message}"));
            return ExitCodes.Failed;
        }
    }
}

/// <summary>Writers and clock for one invocation.</summary>
public sealed record CliContext(TextWriter Output, TextWriter Error, TimeProvider Time)
{
    public bool Color => ReferenceEquals(Output, Console.Out) && !Console.IsOutputRedirected && Environment.GetEnvironmentVariable("NO_COLOR") is null;

    /// <summary>Standard error is a terminal a person watches (progress bars go there); RESPOND_NO_PROGRESS turns them off.</summary>
    public bool Interactive => ReferenceEquals(Error, Console.Error) && !Console.IsErrorRedirected && Environment.GetEnvironmentVariable("RESPOND_NO_PROGRESS") is null;
}

/// <summary>Bad input discovered by a command; printed without a stack trace, exit code 2.</summary>
public sealed class CliInputException : Exception
{
    public CliInputException(string message)
        : base(message)
    {
    }

    public CliInputException()
    {
    }

    public CliInputException(string message, Exception inner)
        : base(message, inner)
    {
    }
}
