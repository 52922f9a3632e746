using System.CommandLine;
using ResponseEngine.Connectors.Local;
using ResponseEngine.Execution;
using ResponseEngine.Findings;
using ResponseEngine.Identities;

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
            the local working copy, with every change the engine has made; with live connectors (connectors: in
            respond.yaml) every account and group each one can see, read-only. A failed export writes nothing.

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
            var file = parse.GetValue(output)!;
            if (options.Connectors.Values.All(c => c.Kind == "local"))
            {
                // The working copy is already a snapshot file: export it byte for byte.
                using var local = LocalDirectory.Open(options.Local, Directory.GetCurrentDirectory(), context.Time, options.Privileged);
                var exported = await local.ExportAsync(token);
                await OutFile.WriteAsync(file, target => target.WriteAsync(exported, token).AsTask());
                var snapshot = await local.ReadSnapshotAsync(token);
                context.Output.WriteLine($"{snapshot.Users.Length} users and {snapshot.Groups.Length} groups written to {file}");
                return ExitCodes.Ok;
            }

            // Live directories: each provider read from its connector, written as one file. Any failure leaves no file.
            var exports = new List<DirectoryExport>();
            // Only the providers respond.yaml configures: one with no connector has no directory to export.
            var connectors = EngineHost.Connectors(options, context.Time);
            foreach (var provider in Providers.All.Where(options.Connectors.ContainsKey))
            {
                var connector = connectors[provider];
                if (connector is not IDirectoryExport export)
                {
                    throw new CliInputException($"connectors.{provider.Name()}: this connector cannot export its directory");
                }

                try
                {
                    exports.Add(await export.ExportAsync(token));
                }
                catch (ConnectorException e)
                {
                    context.Error.WriteLine($"respond: exporting the {provider.Name()} directory failed: {e.Message}; no snapshot written");
                    return ExitCodes.Failed;
                }
            }

            var bytes = SnapshotWriter.Write(exports, context.Time.GetUtcNow());
            await OutFile.WriteAsync(file, target => target.WriteAsync(bytes, token).AsTask());
            var counts = string.Join(", ", exports.Select(e => $"{e.Provider.Name()} {e.Users.Count} users / {e.Groups.Count} groups"));
            context.Output.WriteLine($"{exports.Sum(e => e.Users.Count)} users and {exports.Sum(e => e.Groups.Count)} groups written to {file} ({counts})");
            return ExitCodes.Ok;
        });
        return command;
    }
}
