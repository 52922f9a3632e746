using System.Collections.Immutable;
using System.Text.Json;
using ResponseEngine.Audit;
using ResponseEngine.Diagnostics;
using ResponseEngine.Execution;
using ResponseEngine.Findings;
using ResponseEngine.Rules;

namespace ResponseEngine.Inbox;

/// <summary>How the processor leases work.</summary>
public sealed record InboxProcessorOptions
{
    /// <summary>Findings leased and run together (one run id, one plan).</summary>
    public int BatchSize { get; init; } = 50;

    /// <summary>How long a lease lasts; an instance that dies holding one delays its items by at most this.</summary>
    public TimeSpan Lease { get; init; } = TimeSpan.FromMinutes(5);
}

/// <summary>What one pass of the processor did.</summary>
public sealed record InboxBatch(string? RunId, int Leased, int Rejected, ImmutableArray<DecisionResult> Results)
{
    public static InboxBatch Empty { get; } = new(null, 0, 0, []);
}

/// <summary>
/// Takes leased findings from the inbox and runs them through <see cref="ResponseRun"/> — the same resolve, plan,
/// guard, intent, apply, verify and outcome path as `respond run` — then marks them done. There is no other way from the
/// inbox to a connector. An audit write that fails stops the batch (fail closed): its items are not completed and come
/// back when their lease expires; a record that is no longer a valid finding is completed as rejected, never acted on.
/// </summary>
public sealed class InboxProcessor(IFindingInbox inbox, string owner, InboxProcessorOptions options)
{
    public string Owner { get; } = owner;

    /// <summary>Leases one batch and processes it with the rules given; returns what it did (an empty batch when there is nothing to do).</summary>
    /// <param name="newRun">Makes the run context for the batch (run id, store, connectors, options): the one `respond run` would make.</param>
    public async Task<InboxBatch> ProcessOnceAsync(RuleSet rules, Func<RunContext> newRun, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(rules);
        ArgumentNullException.ThrowIfNull(newRun);
        var items = await inbox.LeaseAsync(Owner, options.BatchSize, options.Lease, cancellationToken);
        if (items.Count == 0) return InboxBatch.Empty;

        var findings = new List<Finding>(items.Count);
        var byFinding = new Dictionary<(string Source, string Id), InboxItem>();
        var rejections = new List<InboxCompletion>();
        foreach (var item in items)
        {
            var (finding, problem) = Parse(item);
            if (finding is null)
            {
                rejections.Add(new InboxCompletion(item.Sequence, "rejected: " + problem));
                continue;
            }

            findings.Add(finding);
            byFinding[(finding.Source, finding.Id)] = item;
        }

        // Records that are not findings are done at once, all in one transaction: nothing acts on them.
        await inbox.CompleteManyAsync(rejections, Owner, cancellationToken);
        var rejected = rejections.Count;
        if (findings.Count == 0) return new InboxBatch(null, items.Count, rejected, []);

        var run = newRun();
        var (_, summary) = await ResponseRun.RunAsync(rules, findings, run, null, cancellationToken);

        // Only after every outcome of the batch is in the audit trail is a finding done; the whole batch in one transaction.
        var results = summary.Results.ToLookup(r => (r.Decision.Finding.Source, r.Decision.Finding.Id));
        var completions = new List<InboxCompletion>(byFinding.Count);
        foreach (var ((source, id), item) in byFinding)
        {
            var statuses = results[(source, id)].GroupBy(r => r.Status).OrderBy(g => g.Key).Select(g => $"{g.Key.Name()} {g.Count()}");
            var outcome = $"run {run.RunId}: " + (results[(source, id)].Any() ? string.Join(", ", statuses) : "no rule matched");
            completions.Add(new InboxCompletion(item.Sequence, outcome));
        }

        await inbox.CompleteManyAsync(completions, Owner, CancellationToken.None);

        return new InboxBatch(run.RunId, items.Count, rejected, summary.Results);
    }

    /// <summary>Reads an inbox record back into a finding with the same validation as every other input.</summary>
    public static (Finding? Finding, string? Problem) Parse(InboxItem item)
    {
        ArgumentNullException.ThrowIfNull(item);
        try
        {
            using var document = JsonDocument.Parse(item.Payload);
            var bag = new DiagnosticBag();
            var finding = FindingReader.Parse(document.RootElement, SourceLocation.FileOnly($"inbox #{item.Sequence}"), bag);
            return finding is null
                ? (null, string.Join("; ", bag.Items.Where(d => d.IsError).Select(d => d.Message)))
                : (finding with { Origin = item.Origin }, null);
        }
        catch (JsonException e)
        {
            return (null, $"not valid JSON: {e.Message}");
        }
    }
}
