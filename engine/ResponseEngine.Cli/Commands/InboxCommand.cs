using System.CommandLine;
using ResponseEngine.Diagnostics;
using ResponseEngine.Inbox;
using ResponseEngine.Service.Pollers;

namespace ResponseEngine.Cli.Commands;

/// <summary>`respond inbox`: the records `respond serve` could not use, kept in the quarantine, and their resubmission.</summary>
internal static class InboxCommand
{
    public static Command Create(CliContext context)
    {
        var command = new Command("inbox", """
            The inbox of `respond serve`. Records an input could not use (not JSON, not valid text, not a finding,
            a vendor event that does not map) are quarantined with their reason instead of being dropped; list them
            and resubmit them once fixed.

            Examples:
              respond inbox list --rejected
              respond inbox resubmit 7
              respond inbox resubmit 7 --file corrected.json
            """);
        command.Add(List(context));
        command.Add(Resubmit(context));
        return command;
    }

    private static Command List(CliContext context)
    {
        var config = EngineHost.Config();
        var rejected = new Option<bool>("--rejected") { Description = "List the quarantined records (the only list so far)" };
        var all = new Option<bool>("--all") { Description = "Also those already resubmitted" };
        var command = new Command("list", "List the quarantined records, oldest first, with their origin, place and reason.\n\nExamples:\n  respond inbox list --rejected") { config, rejected, all };
        command.SetAction(async (parse, token) =>
        {
            if (!parse.GetValue(rejected))
            {
                context.Error.WriteLine("respond inbox list: say what to list: --rejected");
                return ExitCodes.BadInput;
            }

            return await AuditCommand.WithStoreAsync(context, parse.GetValue(config), async store =>
            {
                if (store is not IRejectedRecords quarantine) return NoQuarantine(context);
                var items = await quarantine.ListRejectedAsync(parse.GetValue(all), token);
                context.Output.WriteLine($"{"id",6}  {"rejected (UTC)",-19}  {"origin",-24}  {"where",-30}  reason");
                foreach (var item in items)
                {
                    var state = item.ResubmittedAt is { } at ? $" (resubmitted {at:yyyy-MM-dd HH:mm:ss})" : "";
                    context.Output.WriteLine($"{item.Id,6}  {item.RejectedAt:yyyy-MM-dd HH:mm:ss}  {Cut(item.Origin, 24),-24}  {Cut(item.Key, 30),-30}  {Printable.Escape(item.Reason)}{state}");
                }

                context.Output.WriteLine($"{items.Count} quarantined record{(items.Count == 1 ? "" : "s")}{(parse.GetValue(all) ? "" : " awaiting resubmission")}");
                return ExitCodes.Ok;
            }, token);
        });
        return command;
    }

    private static Command Resubmit(CliContext context)
    {
        var config = EngineHost.Config();
        var id = new Argument<long>("id") { Description = "The quarantined record's id (respond inbox list --rejected)" };
        var file = new Option<string?>("--file", "-f") { Description = "A corrected finding (canonical JSON) to submit in its place", HelpName = "FILE" };
        var command = new Command("resubmit", """
            Submit a quarantined record to the inbox again: the stored record read again as its input reads it (after
            an upgrade or a mapping fix it may now be a finding), or with --file a corrected finding in its place. The
            record is marked resubmitted in the same transaction; `respond serve` then processes the finding as any other.
            Exit code 0 when submitted, 2 when it is still not a finding (the reasons are printed), 1 when the store fails.

            Examples:
              respond inbox resubmit 7
              respond inbox resubmit 7 --file corrected.json
            """) { config, id, file };
        command.SetAction(async (parse, token) =>
        {
            var options = EngineHost.LoadOptions(context, parse.GetValue(config));
            byte[]? corrected = null;
            if (parse.GetValue(file) is { } path)
            {
                try
                {
                    corrected = await File.ReadAllBytesAsync(path, token);
                }
                catch (Exception e) when (e is IOException or UnauthorizedAccessException)
                {
                    context.Error.WriteLine($"{path}: error {DiagnosticCodes.FileUnreadable}: cannot read the corrected record: {e.Message}");
                    return ExitCodes.BadInput;
                }
            }

            return await AuditCommand.WithStoreAsync(context, parse.GetValue(config), async store =>
            {
                if (store is not IRejectedRecords quarantine) return NoQuarantine(context);
                var number = parse.GetValue(id);
                if (await quarantine.GetRejectedAsync(number, token) is not { } item)
                {
                    context.Error.WriteLine($"respond: there is no quarantined record {number} (respond inbox list --rejected)");
                    return ExitCodes.BadInput;
                }

                var (entries, problem) = Resubmission.Prepare(item, options, corrected, parse.GetValue(file));
                if (problem is not null)
                {
                    context.Error.WriteLine($"respond: record {number} is still not a finding: {Printable.Escape(problem)}");
                    return ExitCodes.BadInput;
                }

                var done = await quarantine.ResubmitAsync(number, entries, token);
                if (done != true)
                {
                    context.Error.WriteLine($"respond: record {number} was resubmitted already; nothing was added");
                    return ExitCodes.BadInput;
                }

                foreach (var entry in entries) context.Output.WriteLine($"resubmitted record {number} as finding {Printable.Escape(entry.Source)}/{Printable.Escape(entry.FindingId)}");
                return ExitCodes.Ok;
            }, token);
        });
        return command;
    }

    private static int NoQuarantine(CliContext context)
    {
        context.Error.WriteLine("respond: this audit store keeps no quarantine");
        return ExitCodes.Failed;
    }

    private static string Cut(string text, int width)
    {
        var printable = Printable.Escape(text);
        return printable.Length <= width ? printable : printable[..(width - 1)] + "…";
    }
}
