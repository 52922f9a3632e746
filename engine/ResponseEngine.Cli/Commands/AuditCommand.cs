using System.CommandLine;
using System.Text;
using System.Text.Json;
using ResponseEngine.Audit;
using ResponseEngine.Cli.Rendering;

namespace ResponseEngine.Cli.Commands;

/// <summary>`respond audit`: read, export and verify the trail.</summary>
internal static class AuditCommand
{
    private static readonly JsonSerializerOptions Indented = new() { WriteIndented = true };

    public static Command Create(CliContext context)
    {
        var command = new Command("audit", """
            Read the audit trail. Every decision has rows: an intent before any action and an outcome after it,
            or a skipped / held / dry_run row naming the guard and the reason.

            Examples:
              respond audit list --limit 20
              respond audit list --status failed --status timed_out --since 24h
              respond audit list --identity alice@corp.example --guard breaker
              respond audit show 42
              respond audit export --format csv --out audit.csv
              respond audit export --format jsonl --out audit.jsonl
              respond audit verify
            """);
        command.Add(List(context));
        command.Add(Show(context));
        command.Add(Export(context));
        command.Add(Verify(context));
        return command;
    }

    private static Command List(CliContext context)
    {
        var config = EngineHost.Config();
        var limit = new Option<int>("--limit", "-n") { Description = "Show the last N rows", DefaultValueFactory = _ => 50 };
        var status = new Option<string[]>("--status")
        {
            Description = $"Only rows with this status, as the list prints it (repeatable): {string.Join(", ", AuditStatusWords.Names)}; also {string.Join(", ", AuditStatusWords.Aliases)}",
        };
        var run = new Option<string?>("--run") { Description = "Only rows of this run id" };
        var rule = new Option<string?>("--rule") { Description = "Only rows of this rule id" };
        var identity = new Option<string?>("--identity") { Description = "Only rows about this account: its id or its name, exactly", HelpName = "ID|NAME" };
        var person = new Option<string?>("--person")
        {
            Description = "Only rows about the person this account belongs to: its rows and those of the accounts the trail links to it (linked_from), by id or name (ASCII case ignored)",
            HelpName = "ID|NAME",
        };
        var guard = new Option<string?>("--guard") { Description = "Only rows refused or closed by this guard (breaker, rate_limited, lockout_protection, approval, …)" };
        var since = new Option<string?>("--since") { Description = "Only rows recorded at or after TIME: ISO 8601 (2026-11-26T08:00:00Z) or an age (30m, 24h, 7d)", HelpName = "TIME" };
        var until = new Option<string?>("--until") { Description = "Only rows recorded before TIME (exclusive): ISO 8601 or an age (24h: older than a day)", HelpName = "TIME" };
        var command = new Command("list", """
            List audit rows, newest last. The status column prints the stored status word (an intent with no outcome
            yet is marked "(open)"); --status accepts exactly those words.

            Examples:
              respond audit list
              respond audit list --status failed --status timed_out --since 24h
              respond audit list --identity alice@corp.example --since 2026-11-01T00:00:00Z --until 2026-11-08T00:00:00Z
              respond audit list --guard breaker --rule ad-weak-password-privileged
              respond audit list --person alice@corp.example.com
            """) { config, limit, status, run, rule, identity, person, guard, since, until };
        command.SetAction(async (parse, token) =>
        {
            var statuses = parse.GetValue(status) is { Length: > 0 } words ? words.SelectMany(AuditStatusWords.Parse).Distinct().ToList() : null;
            var now = context.Time.GetUtcNow();
            var query = new AuditQuery
            {
                Statuses = statuses, RunId = parse.GetValue(run), RuleId = parse.GetValue(rule), Identity = parse.GetValue(identity), Guard = parse.GetValue(guard),
                Since = AuditTime.Parse("--since", parse.GetValue(since), now), Until = AuditTime.Parse("--until", parse.GetValue(until), now),
                Descending = true, Limit = parse.GetValue(limit),
            };
            return await WithStoreAsync(context, parse.GetValue(config), async store =>
            {
                List<AuditRecord> rows;
                if (parse.GetValue(person) is { } who)
                {
                    // The person's accounts as the trail links them (the person index); then the newest rows about any of them.
                    var accounts = await PersonLookup.FindAsync(store, who, token);
                    if (accounts.Count == 0)
                    {
                        context.Error.WriteLine(TerminalText.Escape($"no audit row is about an account with id or name '{who}'"));
                        return ExitCodes.Ok;
                    }

                    context.Output.WriteLine(TerminalText.Escape("person: " + string.Join(", ", accounts.Select(a => $"{a.Name ?? a.Id} ({a.Provider})"))));
                    rows = [.. (await store.ReadAsync(query with { Accounts = [.. accounts.Select(a => a.Key)] }, token)).Reverse()];
                }
                else
                {
                    rows = [.. (await store.ReadAsync(query, token)).Reverse()];
                }

                var open = (await store.OpenIntentsAsync(token)).Select(r => r.Sequence).ToHashSet();
                context.Output.WriteLine($"{"#",6}  {"time (UTC)",-19}  {"status",-22}  {"action",-22}  {"target",-34}  rule / reason");
                foreach (var row in rows)
                {
                    var e = row.Entry;
                    var why = e.Error ?? (e.Guard is null ? e.Reason : $"[{e.Guard}] {e.Reason}");
                    var shown = e.Status.Name() + (open.Contains(row.Sequence) ? " (open)" : "") + (e.DryRun && e.Status != AuditStatus.DryRun ? " (dry)" : "");
                    context.Output.WriteLine(TerminalText.Escape(
                        $"{row.Sequence,6}  {row.RecordedAt:yyyy-MM-dd HH:mm:ss}  {shown,-22}  {e.Action ?? "",-22}  {Truncate(e.IdentityName ?? e.IdentityId ?? "", 34),-34}  {e.RuleId}{(why is null ? "" : " — " + why)}"));
                }

                return ExitCodes.Ok;
            }, token);
        });
        return command;
    }

    private static Command Show(CliContext context)
    {
        var config = EngineHost.Config();
        var id = new Argument<long>("id") { Description = "Audit row number (#)" };
        var command = new Command("show", "Show one audit row in full, with its intent or outcome: one field a line, the JSON fields (parameters, facts, prior state) indented as JSON; control characters from data are escaped.\n\nExamples:\n  respond audit show 42") { config, id };
        command.SetAction(async (parse, token) => await WithStoreAsync(context, parse.GetValue(config), async store =>
        {
            var sequence = parse.GetValue(id);
            var row = await FindAsync(store, sequence, token);
            foreach (var line in AuditRowText.Lines(row)) context.Output.WriteLine(line);
            var related = row.Entry.Status == AuditStatus.Intended
                ? (await store.ReadAsync(new AuditQuery { AfterSequence = sequence }, token)).Where(r => r.Entry.IntentSequence == sequence)
                : [];
            foreach (var outcome in related) context.Output.WriteLine(TerminalText.Escape($"outcome     #{outcome.Sequence} {outcome.Entry.Status.Name()} {outcome.Entry.Error ?? outcome.Entry.Reason}"));
            return ExitCodes.Ok;
        }, token));
        return command;
    }

    private static Command Export(CliContext context)
    {
        var config = EngineHost.Config();
        var format = CommonOptions.Format("json", "csv", "jsonl");
        var output = new Option<string?>("--out", "-o") { Description = "Write to this file instead of standard output", HelpName = "FILE" };
        var command = new Command("export", "Export the whole trail as JSON, CSV or JSON Lines (with hashes; JSON keeps every value exactly, for an external check; CSV cells that a spreadsheet would read as a formula start with an apostrophe; jsonl writes one document a row with Elastic Common Schema field names, for a SIEM).\n\nExamples:\n  respond audit export --format csv --out audit.csv\n  respond audit export --format jsonl --out audit.jsonl") { config, format, output };
        command.SetAction(async (parse, token) => await WithStoreAsync(context, parse.GetValue(config), async store =>
        {
            var rows = await store.ReadAsync(new AuditQuery(), token);
            var text = parse.GetValue(format) switch
            {
                "csv" => Csv(rows),
                "jsonl" => AuditEcs.Lines(rows),
                _ => JsonSerializer.Serialize(rows.Select(ToJson), Indented),
            };
            if (parse.GetValue(output) is { } file)
            {
                await OutFile.WriteTextAsync(file, text);
                context.Error.WriteLine($"{rows.Count} rows written to {file}");
            }
            else
            {
                context.Output.WriteLine(text);
            }

            return ExitCodes.Ok;
        }, token));
        return command;
    }

    private static Command Verify(CliContext context)
    {
        var config = EngineHost.Config();
        var command = new Command("verify", "Recompute the hash chain of the whole trail; any row changed by hand breaks it. With an audit key\n(RESPOND_AUDIT_KEY_FILE or RESPOND_AUDIT_KEY) also check the signed anchor of the tail: rows cut off the\nend, or rows written without the key, are reported.\nExit code 0 intact, 1 broken.\n\nExamples:\n  respond audit verify") { config };
        command.SetAction(async (parse, token) => await WithStoreAsync(context, parse.GetValue(config), async store =>
        {
            var result = await store.VerifyAsync(token);
            if (!result.Intact)
            {
                context.Output.WriteLine($"audit trail BROKEN at row #{result.FirstBadSequence}: {result.Problem} ({result.RowsChecked} rows checked)");
                return ExitCodes.Failed;
            }

            context.Output.WriteLine($"audit trail intact: {result.RowsChecked} rows, hash chain verified");
            if (EngineHost.AuditKey() is not { } key)
            {
                context.Output.WriteLine($"anchor not checked: no audit key ({AuditAnchorKey.FileVariable} or {AuditAnchorKey.Variable}), so rows cut off the end would go unnoticed");
                return ExitCodes.Ok;
            }

            var anchor = await AuditAnchorVerifier.VerifyAsync(store, key, token);
            context.Output.WriteLine(anchor.Holds ? $"anchor holds: {anchor.Message}" : $"audit trail BROKEN: {anchor.Message}");
            return anchor.Holds ? ExitCodes.Ok : ExitCodes.Failed;
        }, token));
        return command;
    }

    internal static async Task<int> WithStoreAsync(CliContext context, string? configFile, Func<IAuditStore, Task<int>> action, CancellationToken token)
    {
        var options = EngineHost.LoadOptions(context, configFile);
        try
        {
            await using var store = await EngineHost.OpenStoreAsync(options, context.Time, token);
            return await action(store);
        }
        catch (AuditWriteException e)
        {
            context.Error.WriteLine($"respond: the audit store cannot be used: {e.Message}");
            return ExitCodes.Failed;
        }
    }

    /// <summary>One row by its number, or bad input naming the number.</summary>
    internal static async Task<AuditRecord> FindAsync(IAuditStore store, long sequence, CancellationToken token)
    {
        var rows = await store.ReadAsync(new AuditQuery { AfterSequence = sequence - 1, Limit = 1 }, token);
        return rows.Count == 1 && rows[0].Sequence == sequence ? rows[0] : throw new CliInputException($"there is no audit row #{sequence}");
    }

    internal static Dictionary<string, object?> ToJson(AuditRecord r) => AuditExport.Fields(r);

    private static string Csv(IReadOnlyList<AuditRecord> rows)
    {
        var builder = new StringBuilder();
        if (rows.Count > 0) builder.AppendLine(AuditExport.CsvHeader);
        foreach (var row in rows) builder.AppendLine(AuditExport.CsvLine(row));
        return builder.ToString();
    }

    private static string Truncate(string text, int length) => text.Length <= length ? text : text[..(length - 1)] + "…";
}
