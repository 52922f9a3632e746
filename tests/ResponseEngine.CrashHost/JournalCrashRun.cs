using System.Collections.Immutable;
using System.Globalization;
using ResponseEngine.Actions;
using ResponseEngine.Connectors.Local;
using ResponseEngine.Execution;
using ResponseEngine.Findings;

/// <summary>
/// The local directory's journal under SIGKILL: applies the ops of DIR/ops.txt in order through the connector, each only
/// when not already done (as the executor does), and says "ACK n" once op n returned. Every durable step of the local
/// directory is a tripwire step, so CRASH_AT=N kills the process at the same point for the same input.
/// </summary>
internal static class JournalCrashRun
{
    public static async Task<int> RunAsync(string dir, TimeProvider time)
    {
        using var local = LocalDirectory.Open(Path.Combine(dir, "directory.json"), Path.Combine(dir, "state", "directory.json"), time);
        local.OnStep = step => Tripwire.Step("local " + step);
        var connector = local.Connector(Provider.Ad);
        var ops = await File.ReadAllLinesAsync(Path.Combine(dir, "ops.txt"));
        for (var i = 0; i < ops.Length; i++)
        {
            var parts = ops[i].Split(' ');
            if (parts[0] == "compact")
            {
                await local.CompactAsync(CancellationToken.None);
            }
            else
            {
                var action = ActionCatalogue.Default.Find(parts[0])!;
                var parameters = parts.Length > 2 ? ActionParameters.Empty.With("groups", ImmutableArray.Create(parts[2])) : ActionParameters.Empty;
                var request = new ActionRequest(action, parameters, new TargetRef(Provider.Ad, parts[1], parts[1]));
                if (!(await connector.ReadAsync(request, CancellationToken.None)).AlreadyDone) await connector.ApplyAsync(request, CancellationToken.None);

                // As the executor does before it records an outcome: the change is acknowledged once it is durable.
                await connector.MakeDurableAsync(CancellationToken.None);
            }

            Console.Out.WriteLine("ACK " + i.ToString(CultureInfo.InvariantCulture));
            Console.Out.Flush();
        }

        return 0;
    }
}
