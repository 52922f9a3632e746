using System.CommandLine;
using System.Globalization;
using ResponseEngine.Diagnostics;
using ResponseEngine.Cli.Rendering;
using ResponseEngine.Identities;
using ResponseEngine.Policy.Rules;

namespace ResponseEngine.Cli.Commands;

/// <summary>Options and loading steps several commands share.</summary>
internal static class CommonOptions
{
    /// <summary>--skip-invalid: go on with the valid findings when some records are invalid (each is still reported), instead of doing nothing and exiting 2.</summary>
    public static Option<bool> SkipInvalid() => new("--skip-invalid")
    {
        Description = "Go on with the valid findings when some records cannot be read (each is still reported with file, line and field); without it, invalid input means exit 2",
    };

    public static Option<string> Rules() => new("--rules", "-r")
    {
        Description = "Folder of rule files (*.yaml, searched recursively)",
        DefaultValueFactory = _ => "rules",
        HelpName = "DIR",
    };

    public static Option<string> Format(params string[] formats)
    {
        var option = new Option<string>("--format", "-f")
        {
            Description = $"Output format: {string.Join(", ", formats)}",
            DefaultValueFactory = _ => formats[0],
            HelpName = "FORMAT",
        };
        option.AcceptOnlyFromAmong(formats);
        return option;
    }

    public static Option<string?> At() => new("--at")
    {
        Description = "Evaluate as of this time (RFC 3339), e.g. to check rule expiry or reproduce a plan; default now",
        HelpName = "TIME",
    };

    public static TimeProvider Clock(CliContext context, string? at)
    {
        if (at is null) return context.Time;
        if (DateTimeOffset.TryParse(at, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal, out var instant))
        {
            return new FixedTimeProvider(instant);
        }

        throw new CliInputException($"--at '{at}' is not a timestamp; write it like 2026-11-26T08:00:00Z");
    }

    public static RuleLoad LoadRules(string directory, TimeProvider time) =>
        Loader(time).LoadDirectory(directory);

    public static RuleLoader Loader(TimeProvider time) => RuleLoader.Default(time);

    public static void Print(TextWriter writer, IEnumerable<Diagnostic> diagnostics, bool color)
    {
        foreach (var diagnostic in diagnostics)
        {
            // A diagnostic quotes data (a value, a key, a path): escaped before our own colour is added.
            var line = TerminalText.Escape(diagnostic.ToString());
            if (color)
            {
                var code = diagnostic.IsError ? "\u001b[31m" : "\u001b[33m";
                line = line.Replace(diagnostic.IsError ? " error " : " warning ", $" {code}{(diagnostic.IsError ? "error" : "warning")}\u001b[0m ", StringComparison.Ordinal);
            }

            writer.WriteLine(line);
        }
    }

    public static string Plural(int count, string noun) => $"{count} {noun}{(count == 1 ? "" : "s")}";

    private sealed class FixedTimeProvider(DateTimeOffset now) : TimeProvider
    {
        public override DateTimeOffset GetUtcNow() => now;
    }
}
