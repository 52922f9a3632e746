using System.Text;
using System.Text.Json;
using ResponseEngine.Findings;
using ResponseEngine.Planning;

namespace ResponseEngine.Cli.Rendering;

/// <summary>A plan diff for people (text, Markdown for a pull request) and machines (JSON).</summary>
internal static class PlanDiffRenderer
{
    public static string Summary(PlanDiff diff, string baseLabel, IReadOnlyList<string> rulesChanged)
    {
        var delta = diff.ExecutedDelta();
        return $"Against {baseLabel}: {rulesChanged.Count} rule file{(rulesChanged.Count == 1 ? "" : "s")} changed, {diff.Identities.Length} identit{(diff.Identities.Length == 1 ? "y" : "ies")} affected; " +
            (delta.Count == 0 ? "executed actions unchanged" : "executed actions " + string.Join(", ", delta.Select(kv => $"{kv.Key} {kv.Value:+#;-#}"))) +
            $"; destructive {diff.DestructiveIncrease:+#;-#;±0}";
    }

    public static void Text(PlanDiff diff, string baseLabel, IReadOnlyList<string> rulesChanged, TextWriter writer)
    {
        writer.WriteLine(Summary(diff, baseLabel, rulesChanged));
        foreach (var file in rulesChanged) writer.WriteLine($"  changed: {file}");
        writer.WriteLine();
        foreach (var identity in diff.Identities)
        {
            writer.WriteLine($"{identity.Target} ({identity.Provider.Name()})");
            foreach (var change in identity.Changes) writer.WriteLine("  " + Line(change));
        }

        if (diff.Identities.IsEmpty) writer.WriteLine("No identity is affected.");
    }

    public static string Markdown(PlanDiff diff, string baseLabel, IReadOnlyList<string> rulesChanged)
    {
        var builder = new StringBuilder();
        builder.AppendLine("## ResponseEngine plan diff");
        builder.AppendLine();
        builder.AppendLine(Summary(diff, baseLabel, rulesChanged).Replace("Against ", "Against `", StringComparison.Ordinal).Replace(": ", "`: ", StringComparison.Ordinal) + ".");
        builder.AppendLine();
        const int limit = 60_000;
        var omitted = 0;
        foreach (var identity in diff.Identities)
        {
            var section = new StringBuilder();
            section.AppendLine($"<details><summary>{Escape(identity.Target)} ({identity.Provider.Name()}): {identity.Changes.Length} change{(identity.Changes.Length == 1 ? "" : "s")}</summary>");
            section.AppendLine();
            foreach (var change in identity.Changes) section.AppendLine("- " + Escape(Line(change)));
            section.AppendLine();
            section.AppendLine("</details>");
            if (builder.Length + section.Length > limit)
            {
                omitted++;
                continue;
            }

            builder.Append(section);
        }

        if (omitted > 0) builder.AppendLine($"> **Truncated:** {omitted} of {diff.Identities.Length} identities left out to fit a comment; run `respond plan --base … --format json` for all.");
        return builder.ToString();
    }

    public static string Json(PlanDiff diff, string baseCommit, IReadOnlyList<string> rulesChanged)
    {
        static object? Side(Decision? d) => d is null ? null : new { rule = d.Rule.Id, verdict = d.Verdict.Name(), guard = d.Guard, reason = d.Reason };
        var document = new
        {
            @base = baseCommit,
            rules_changed = rulesChanged,
            destructive_increase = diff.DestructiveIncrease,
            executed_delta = diff.ExecutedDelta(),
            identities = diff.Identities.Select(i => new
            {
                provider = i.Provider.Name(),
                target = i.Target,
                changes = i.Changes.Select(c => new
                {
                    change = c.Kind.ToString().ToLowerInvariant(),
                    action = c.Any.ActionName,
                    parameters = JsonDocument.Parse(c.Any.Parameters.Canonical).RootElement,
                    finding = new { source = c.Any.Finding.Source, id = c.Any.Finding.Id, type = c.Any.Finding.Type },
                    @base = Side(c.Base),
                    head = Side(c.Head),
                }),
            }),
        };
        return JsonSerializer.Serialize(document, Options);
    }

    private static readonly JsonSerializerOptions Options = new() { WriteIndented = true };

    private static string Line(DecisionChange change)
    {
        var d = change.Any;
        var action = d.Parameters.IsEmpty ? d.ActionName : $"{d.ActionName} {d.Parameters.Describe()}";
        static string Verdict(Decision x) => x.Guard is null ? x.Verdict.Name() : $"{x.Verdict.Name()} [{x.Guard}]";
        return change.Kind switch
        {
            ChangeKind.Added => $"+ {action}: {Verdict(change.Head!)} (rule {change.Head!.Rule.Id}, finding {d.Finding.Id})",
            ChangeKind.Removed => $"- {action}: was {Verdict(change.Base!)} (rule {change.Base!.Rule.Id}, finding {d.Finding.Id})",
            _ => $"~ {action}: {Verdict(change.Base!)} → {Verdict(change.Head!)} (finding {d.Finding.Id})",
        };
    }

    private static string Escape(string text) => text.Replace("<", "&lt;", StringComparison.Ordinal);
}
