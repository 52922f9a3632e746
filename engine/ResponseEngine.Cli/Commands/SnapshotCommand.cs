using System.CommandLine;
using ResponseEngine.Connectors.Local;

namespace ResponseEngine.Cli.Commands;

/// <summary>`respond snapshot`: the directory state the engine sees, written to a snapshot file for offline and CI plans.</summary>
internal static class SnapshotCommand
{
    public static Command Create(CliContext context)
    {
        var config = EngineHost.Config();
        var output = new Option<string>("--out", "-o") { Description = "Snapshot file to write (schemas/directory.schema.json)", Required = true, HelpName = "FILE" };
        var command = new Command("snapshot", """
            Export the current state of the configured directories to a snapshot file, so that a plan is
            reproducible offline and in CI (`respond plan --directory FILE`). With the embedded default this is
            the local working copy, with every change the engine has made.

            Examples:
              respond snapshot --out snapshot.json
              respond plan --directory snapshot.json --base origin/main
            """)
        {
            config,
            output,
        };
        command.SetAction(async (parse, token) =>
        {
            var options = EngineHost.LoadOptions(context, parse.GetValue(config));
            if (options.Connectors.Values.Any(c => c.Kind != "local"))
                throw new CliInputException("snapshot of live connectors is not available in this build yet; only the local directory can be exported");
            using var local = LocalDirectory.Open(options.Local, Directory.GetCurrentDirectory(), context.Time, options.Privileged);
            var bytes = await local.ExportAsync(token);
            await File.WriteAllBytesAsync(parse.GetValue(output)!, bytes, token);
            var snapshot = await local.ReadSnapshotAsync(token);
            context.Output.WriteLine($"{snapshot.Users.Length} users and {snapshot.Groups.Length} groups written to {parse.GetValue(output)}");
            return ExitCodes.Ok;
        });
        return command;
    }
}
