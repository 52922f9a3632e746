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
            PlanCommand.Create(context),
            RunCommand.Create(context),
            AuditCommand.Create(context),
            OperatorCommands.Breaker(context),
            OperatorCommands.Approve(context),
            OperatorCommands.Undo(context),
            SnapshotCommand.Create(context),
            PermissionsCommand.Create(context),
            ActionsCommand.Create(context),
            SchemaCommand.Create(context),
        };

        var parse = root.Parse(args);
        if (parse.Errors.Count > 0)
        {
            foreach (var problem in parse.Errors) error.WriteLine($"respond: {problem.Message}");
            error.WriteLine("Run 'respond --help' (or 'respond COMMAND --help') for usage.");
            return ExitCodes.BadInput;
        }

        try
        {
            return parse.Invoke(new InvocationConfiguration { Output = output, Error = error, EnableDefaultExceptionHandler = false });
        }
        catch (CliInputException e)
        {
            error.WriteLine($"respond: {e.Message}");
            return ExitCodes.BadInput;
        }
    }
}

/// <summary>Writers and clock for one invocation.</summary>
public sealed record CliContext(TextWriter Output, TextWriter Error, TimeProvider Time)
{
    public bool Color => ReferenceEquals(Output, Console.Out) && !Console.IsOutputRedirected && Environment.GetEnvironmentVariable("NO_COLOR") is null;
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
