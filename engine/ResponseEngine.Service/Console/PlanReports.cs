using System.Collections.Concurrent;
using System.Text.Json;
using ResponseEngine.Planning;

namespace ResponseEngine.Service.Console;

/// <summary>What a plan file says about itself, as the console and the API show it.</summary>
public sealed record PlanSummaryView(
    int PlanVersion, string? CreatedAt, string? RulesCommit, long Rules, long Decisions, IReadOnlyDictionary<string, long> ByVerdict,
    IReadOnlyDictionary<string, long> ExecutedByAction, long FindingsTotal, long FindingsMatched)
{
    public static PlanSummaryView From(PlanReportSummary s)
    {
        ArgumentNullException.ThrowIfNull(s);
        return new(s.Version, s.CreatedAt, s.RulesCommit, s.RuleCount, s.Decisions, Map(s.ByVerdict), Map(s.ByAction), s.FindingsTotal, s.FindingsMatched);
    }

    /// <summary>In the file's order; a name written twice keeps its last count.</summary>
    private static Dictionary<string, long> Map(IEnumerable<KeyValuePair<string, long>> pairs)
    {
        var map = new Dictionary<string, long>(StringComparer.Ordinal);
        foreach (var (key, value) in pairs) map[key] = value;
        return map;
    }
}

/// <summary>One plan report in the folder: its file, when it was written, and its summary, or why it cannot be read.</summary>
public sealed record PlanReportListing(string Name, DateTimeOffset WrittenAt, long Bytes, PlanSummaryView? Summary, string? Unreadable);

/// <summary>One plan report with a page of its decisions (pass <see cref="Next"/> as `offset` for the next page; null: no more).</summary>
public sealed record PlanReportDetail(PlanReportListing Report, long Offset, IReadOnlyList<PlanDecisionView> Decisions, long? Next);

/// <summary>A decision as the plan file holds it, with its index in the plan (from 0).</summary>
public sealed record PlanDecisionView(long Index, JsonElement Decision);

/// <summary>
/// The newest plan reports in <c>console.plan_reports</c> (#20): <c>*.json</c> files written by
/// <c>respond plan --format json --out</c>, newest first. Each file is read as a stream (<see cref="PlanReportReader"/>),
/// never loaded whole; a summary is kept per file name, size and time written, so a large plan is read once per
/// version. Only a name in the current list can be opened: no path reaches the file system from a request.
/// </summary>
public sealed class PlanReports(string? directory)
{
    /// <summary>How many of the newest files are listed (and can be opened).</summary>
    public const int Newest = 20;

    public const int PageSize = 50;

    private const int CacheLimit = 256;

    private readonly ConcurrentDictionary<(string Name, long Bytes, DateTime Written), (PlanSummaryView? Summary, string? Unreadable)> _summaries = new();

    /// <summary>The folder, or null when none is configured.</summary>
    public string? Directory => directory;

    /// <summary>The newest <see cref="Newest"/> plan files, newest first (time written, then name); empty when no folder is configured.</summary>
    public IReadOnlyList<PlanReportListing> List()
    {
        var listed = new List<PlanReportListing>();
        foreach (var file in Newest20())
        {
            var key = (file.Name, file.Length, file.LastWriteTimeUtc);
            if (!_summaries.TryGetValue(key, out var known))
            {
                known = ReadSummary(file);
                if (_summaries.Count >= CacheLimit) _summaries.Clear();
                _summaries[key] = known;
            }

            listed.Add(new PlanReportListing(file.Name, new DateTimeOffset(file.LastWriteTimeUtc, TimeSpan.Zero), file.Length, known.Summary, known.Unreadable));
        }

        return listed;
    }

    /// <summary>One listed report with the decisions from <paramref name="offset"/>; null when <paramref name="name"/> is not one of the listed files.</summary>
    public PlanReportDetail? Open(string name, long offset, int take = PageSize)
    {
        ArgumentNullException.ThrowIfNull(name);
        offset = Math.Max(0, offset);
        take = Math.Clamp(take, 1, 500);
        if (Newest20().FirstOrDefault(f => string.Equals(f.Name, name, StringComparison.Ordinal)) is not { } file) return null;

        var written = new DateTimeOffset(file.LastWriteTimeUtc, TimeSpan.Zero);
        try
        {
            using var stream = Open(file);
            var page = PlanReportReader.Read(stream, offset, take);
            var summary = PlanSummaryView.From(page.Summary);
            var next = offset + page.Decisions.Count < page.Summary.Decisions && page.Decisions.Count > 0 ? offset + page.Decisions.Count : (long?)null;
            return new PlanReportDetail(new PlanReportListing(file.Name, written, file.Length, summary, null), offset,
                page.Decisions.Select(d => new PlanDecisionView(d.Index, d.Decision)).ToList(), next);
        }
        catch (Exception e) when (Unreadable(e) is { } reason)
        {
            return new PlanReportDetail(new PlanReportListing(file.Name, written, file.Length, null, reason), offset, [], null);
        }
    }

    private IEnumerable<FileInfo> Newest20()
    {
        if (directory is null) return [];
        try
        {
            // Names only from the folder itself: *.json, not hidden (a temporary file of a write in progress is .NAME.tmp).
            return new DirectoryInfo(directory).EnumerateFiles("*.json", new EnumerationOptions { RecurseSubdirectories = false, IgnoreInaccessible = true, AttributesToSkip = FileAttributes.Hidden | FileAttributes.System })
                .Where(f => !f.Name.StartsWith('.') && f.Name.EndsWith(".json", StringComparison.Ordinal))
                .OrderByDescending(f => f.LastWriteTimeUtc).ThenBy(f => f.Name, StringComparer.Ordinal)
                .Take(Newest).ToList();
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return [];
        }
    }

    private static (PlanSummaryView? Summary, string? Unreadable) ReadSummary(FileInfo file)
    {
        try
        {
            using var stream = Open(file);
            return (PlanSummaryView.From(PlanReportReader.ReadSummary(stream)), null);
        }
        catch (Exception e) when (Unreadable(e) is { } reason)
        {
            return (null, reason);
        }
    }

    private static FileStream Open(FileInfo file) =>
        new(file.FullName, new FileStreamOptions { Mode = FileMode.Open, Access = FileAccess.Read, Share = FileShare.ReadWrite | FileShare.Delete, BufferSize = 0, Options = FileOptions.SequentialScan });

    private static string? Unreadable(Exception e) => e switch
    {
        PlanReportException => e.Message,
        IOException or UnauthorizedAccessException => "cannot be read: " + e.Message,
        _ => null,
    };
}
