using ResponseEngine.Planning;

namespace ResponseEngine.Cli.Rendering;

/// <summary>
/// A streamed plan's counts, kept as its decisions pass: how many, by verdict, executed by action. Bounded by the
/// action catalogue, so a plan's summary needs none of its decisions held.
/// </summary>
internal sealed class PlanTotals
{
    private readonly int[] _byVerdict = new int[Enum.GetValues<Verdict>().Length];

    public int Decisions { get; private set; }

    /// <summary>Executed decisions by action name, ordinally sorted.</summary>
    public SortedDictionary<string, int> ExecutedByAction { get; } = new(StringComparer.Ordinal);

    /// <summary>Decisions by verdict, every verdict in the order of <see cref="Plan.CountByVerdict"/>.</summary>
    public IEnumerable<(Verdict Verdict, int Count)> CountByVerdict() => Enum.GetValues<Verdict>().Select(v => (v, _byVerdict[(int)v]));

    public void Add(Decision decision)
    {
        Decisions++;
        _byVerdict[(int)decision.Verdict]++;
        if (decision.Verdict == Verdict.Execute) ExecutedByAction[decision.ActionName] = ExecutedByAction.GetValueOrDefault(decision.ActionName) + 1;
    }

    public string SummaryLine() => PlanTextRenderer.SummaryLine(Decisions, CountByVerdict());
}

/// <summary>
/// A plan format fed as the plan is decided (<see cref="IPlanSink"/>) and written once it is complete, holding what its
/// summary needs and its details in a <see cref="SortedSpill"/>, so memory does not grow with the number of decisions.
/// </summary>
internal interface IPlanRenderer : IPlanSink, IDisposable
{
    PlanTotals Totals { get; }

    /// <summary>Writes the whole plan; <paramref name="plan"/> is its header with the final counts (findings, matched).</summary>
    void WriteTo(Plan plan, TextWriter writer);
}

internal static class PlanRenderers
{
    /// <summary>
    /// The renderer of a format: text (coloured when <paramref name="color"/>), markdown or html; <paramref name="spillBudget"/>
    /// bytes of decisions are held before they go to a spill file (default <see cref="SortedSpill.DefaultBudgetBytes"/>).
    /// </summary>
    public static IPlanRenderer For(string format, bool color, long? spillBudget = null) => format switch
    {
        "markdown" => new PlanMarkdownRenderer(spillBudget),
        "html" => new PlanHtmlRenderer(spillBudget),
        _ => new PlanTextRenderer(color, spillBudget),
    };

    /// <summary>A plan held in memory, rendered as a stream of its decisions (tests; the diff's plans).</summary>
    public static string Render(string format, Plan plan, bool color = false)
    {
        ArgumentNullException.ThrowIfNull(plan);
        using var renderer = For(format, color);
        renderer.Begin(plan);
        renderer.Write(plan.Decisions);
        var writer = new StringWriter();
        renderer.WriteTo(plan, writer);
        return writer.ToString();
    }
}
