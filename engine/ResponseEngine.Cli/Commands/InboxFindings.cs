using System.Collections.Immutable;
using ResponseEngine.Diagnostics;
using ResponseEngine.Findings;
using ResponseEngine.Inbox;
using ResponseEngine.Policy.Rules;

namespace ResponseEngine.Cli.Commands;

/// <summary>
/// Findings for `respond plan`: files and folders as usual, and <c>audit:DURATION</c> (<c>audit:30d</c>) for the
/// findings `respond serve` received into the inbox of the configured audit store in that window — what the rules
/// would have done to the last 30 days of real traffic.
/// </summary>
internal static class InboxFindings
{
    public const string Prefix = "audit:";

    public static FindingLoad Read(IReadOnlyList<string> paths, Configuration.EngineOptions options, TimeProvider time, CancellationToken cancellationToken)
    {
        var files = FindingReader.ReadPaths(paths.Where(p => !p.StartsWith(Prefix, StringComparison.Ordinal)));
        var findings = files.Findings.ToBuilder();
        var diagnostics = files.Diagnostics.ToBuilder();
        var seen = findings.Select(f => (f.Source, f.Id)).ToHashSet();
        foreach (var spec in paths.Where(p => p.StartsWith(Prefix, StringComparison.Ordinal)))
        {
            var location = SourceLocation.FileOnly(spec);
            if (RuleLoader.ParseDuration(spec[Prefix.Length..]) is not { } window || window <= TimeSpan.Zero)
            {
                diagnostics.Add(Diagnostic.Error(DiagnosticCodes.FileUnreadable, location, $"'{spec}' does not name a time window", "write it like audit:30d or audit:12h"));
                continue;
            }

            IReadOnlyList<InboxItem> items;
            try
            {
                items = ReadInboxAsync(options, time, time.GetUtcNow() - window, cancellationToken).GetAwaiter().GetResult();
            }
            catch (Exception e) when (e is Audit.AuditWriteException or IOException or UnauthorizedAccessException or InvalidOperationException)
            {
                diagnostics.Add(Diagnostic.Error(DiagnosticCodes.FileUnreadable, location, $"the audit store cannot be read: {e.Message}", "check audit.store and audit.connection in respond.yaml"));
                continue;
            }

            foreach (var item in items)
            {
                var (finding, problem) = InboxProcessor.Parse(item);
                if (finding is null)
                {
                    diagnostics.Add(Diagnostic.Error(DiagnosticCodes.FindingInvalidValue, new SourceLocation($"{spec} inbox #{item.Sequence}", 0, 0), problem ?? "not a finding"));
                }
                else if (seen.Add((finding.Source, finding.Id)))
                {
                    findings.Add(finding with { Origin = $"{spec} inbox #{item.Sequence}" });
                }
            }
        }

        return new FindingLoad(findings.ToImmutable(), diagnostics.ToImmutable());
    }

    private static async Task<IReadOnlyList<InboxItem>> ReadInboxAsync(Configuration.EngineOptions options, TimeProvider time, DateTimeOffset since, CancellationToken cancellationToken)
    {
        // A plan only reads: it never creates the embedded audit file as a side effect of looking for one.
        if (options.Audit.Store != "sqlserver")
        {
            var path = new Audit.Sqlite.SqliteAuditStore(options.Audit.Connection, time).Path;
            if (!File.Exists(path))
            {
                throw new IOException($"{path} does not exist, so nothing has been received; point audit.connection at the database `respond serve` writes");
            }
        }

        await using var store = await EngineHost.OpenStoreAsync(options, time, cancellationToken);
        return store is IFindingInbox inbox ? await inbox.ReceivedSinceAsync(since, cancellationToken) : [];
    }
}
