using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using ResponseEngine.Cli.Commands;
using ResponseEngine.Diagnostics;

namespace ResponseEngine.Cli.Rendering;

/// <summary>What `validate`, `test` and `lint` report: the problems with their positions, a summary, and command-specific detail for JSON.</summary>
internal sealed record DiagnosticReport(string Command, IReadOnlyList<Diagnostic> Diagnostics, string SummaryLine, JsonObject Summary)
{
    /// <summary>Extra JSON properties of the command (test results, coverage), written beside the diagnostics.</summary>
    public JsonObject? Details { get; init; }
}

/// <summary>
/// Writes diagnostics for people (text), programs (json), code-scanning tools (SARIF 2.1.0) and GitHub Actions
/// (workflow commands, which the runner turns into annotations on the pull request's lines).
/// </summary>
internal static class DiagnosticFormats
{
    public static readonly string[] Names = ["text", "json", "sarif", "github"];

    private static readonly JsonSerializerOptions Indented = new() { WriteIndented = true };

    public static void Write(TextWriter writer, string format, DiagnosticReport report, bool color)
    {
        switch (format)
        {
            case "json":
                writer.WriteLine(Json(report).ToJsonString(Indented));
                break;
            case "sarif":
                writer.WriteLine(Sarif(report).ToJsonString(Indented));
                break;
            case "github":
                foreach (var diagnostic in report.Diagnostics) writer.WriteLine(GitHub(diagnostic));
                writer.WriteLine(TerminalText.Escape(report.SummaryLine));
                break;
            default:
                CommonOptions.Print(writer, report.Diagnostics, color);
                writer.WriteLine(report.SummaryLine);
                break;
        }
    }

    public static JsonObject Json(DiagnosticReport report)
    {
        var json = new JsonObject
        {
            ["command"] = report.Command,
            ["summary"] = report.Summary.DeepClone(),
            ["diagnostics"] = new JsonArray([.. report.Diagnostics.Select(d => (JsonNode)new JsonObject
            {
                ["code"] = d.Code,
                ["severity"] = d.IsError ? "error" : "warning",
                ["file"] = d.Location.File,
                ["line"] = d.Location.Line > 0 ? d.Location.Line : null,
                ["column"] = d.Location.Line > 0 ? d.Location.Column : null,
                ["message"] = d.Message,
                ["hint"] = d.Hint,
            })]),
        };
        foreach (var (key, value) in report.Details ?? []) json[key] = value?.DeepClone();
        return json;
    }

    /// <summary>A SARIF 2.1.0 log with one run: the codes used as reporting descriptors, each diagnostic a result at its file region.</summary>
    public static JsonObject Sarif(DiagnosticReport report)
    {
        var meanings = DiagnosticCodes.All.ToDictionary(c => c.Code, c => c.Meaning, StringComparer.Ordinal);
        var codes = report.Diagnostics.Select(d => d.Code).Distinct(StringComparer.Ordinal).Order(StringComparer.Ordinal).ToList();
        var rules = new JsonArray([.. codes.Select(code => (JsonNode)new JsonObject
        {
            ["id"] = code,
            ["shortDescription"] = new JsonObject { ["text"] = meanings.GetValueOrDefault(code, code) },
        })]);
        var results = new JsonArray();
        foreach (var diagnostic in report.Diagnostics)
        {
            var physical = new JsonObject { ["artifactLocation"] = new JsonObject { ["uri"] = Uri(diagnostic.Location.File) } };
            if (diagnostic.Location.Line > 0)
            {
                physical["region"] = new JsonObject { ["startLine"] = diagnostic.Location.Line, ["startColumn"] = Math.Max(1, diagnostic.Location.Column) };
            }

            results.Add(new JsonObject
            {
                ["ruleId"] = diagnostic.Code,
                ["ruleIndex"] = codes.IndexOf(diagnostic.Code),
                ["level"] = diagnostic.IsError ? "error" : "warning",
                ["message"] = new JsonObject { ["text"] = diagnostic.Hint is null ? diagnostic.Message : $"{diagnostic.Message}; {diagnostic.Hint}" },
                ["locations"] = new JsonArray(new JsonObject { ["physicalLocation"] = physical }),
            });
        }

        return new JsonObject
        {
            ["$schema"] = "https://docs.oasis-open.org/sarif/sarif/v2.1.0/errata01/os/schemas/sarif-schema-2.1.0.json",
            ["version"] = "2.1.0",
            ["runs"] = new JsonArray(new JsonObject
            {
                ["tool"] = new JsonObject
                {
                    ["driver"] = new JsonObject
                    {
                        ["name"] = "respond",
                        ["fullName"] = $"ResponseEngine respond {report.Command}",
                        ["version"] = EngineHost.Version,
                        ["rules"] = rules,
                    },
                },
                ["automationDetails"] = new JsonObject { ["id"] = $"respond/{report.Command}/" },
                ["results"] = results,
            }),
        };
    }

    /// <summary>
    /// One workflow command, <c>::error file=…,line=…,col=…,title=…::message</c>, escaped as the Actions toolkit does:
    /// in the message %, CR and LF; in properties also ':' and ','; other control characters are made visible first.
    /// </summary>
    public static string GitHub(Diagnostic diagnostic)
    {
        var properties = new List<string> { $"file={Property(diagnostic.Location.File)}" };
        if (diagnostic.Location.Line > 0)
        {
            properties.Add($"line={diagnostic.Location.Line}");
            properties.Add($"col={Math.Max(1, diagnostic.Location.Column)}");
        }

        properties.Add($"title={Property(diagnostic.Code)}");
        var text = diagnostic.Hint is null ? diagnostic.Message : $"{diagnostic.Message}; {diagnostic.Hint}";
        return $"::{(diagnostic.IsError ? "error" : "warning")} {string.Join(',', properties)}::{Data(text)}";
    }

    /// <summary>escapeData of @actions/core: %, CR and LF; other controls are made visible so they cannot act on the log.</summary>
    public static string Data(string text) =>
        VisibleControls(text).Replace("%", "%25", StringComparison.Ordinal).Replace("\r", "%0D", StringComparison.Ordinal).Replace("\n", "%0A", StringComparison.Ordinal);

    /// <summary>escapeProperty of @actions/core: escapeData plus ':' and ','.</summary>
    public static string Property(string text) =>
        Data(text).Replace(":", "%3A", StringComparison.Ordinal).Replace(",", "%2C", StringComparison.Ordinal);

    private static string VisibleControls(string text)
    {
        // CR and LF are kept for the toolkit's own escapes; every other control is written as TerminalText does.
        var builder = new StringBuilder(text.Length);
        foreach (var c in text) builder.Append(c is '\r' or '\n' ? c.ToString() : TerminalText.Escape(c.ToString()));
        return builder.ToString();
    }

    /// <summary>A relative URI reference for a path under the working directory (as SARIF viewers and GitHub resolve them), else a file: URI.</summary>
    private static string Uri(string path)
    {
        var full = Path.GetFullPath(path);
        var relative = Path.GetRelativePath(Directory.GetCurrentDirectory(), full);
        if (Path.IsPathRooted(relative) || relative.StartsWith("..", StringComparison.Ordinal))
        {
            return new System.Uri(full).AbsoluteUri;
        }

        return string.Join('/', relative.Split(Path.DirectorySeparatorChar, Path.AltDirectorySeparatorChar).Select(System.Uri.EscapeDataString));
    }
}
