using System.Globalization;
using System.Net;
using System.Text;
using System.Text.Json;
using ResponseEngine.Diagnostics;

namespace ResponseEngine.Service.Console.Pages;

/// <summary>
/// Everything a console page prints goes through here: text is HTML-encoded after its control characters are escaped
/// (<see cref="Printable.Escape"/>), so a finding's field can neither inject markup nor hide or reorder what is shown.
/// </summary>
internal static class HtmlText
{
    /// <summary>Text for an element's content or a quoted attribute value.</summary>
    public static string E(string? text) => WebUtility.HtmlEncode(Printable.Escape(text));

    /// <summary>A query-string value (already safe for an attribute once encoded).</summary>
    public static string Q(string? text) => Uri.EscapeDataString(text ?? "");

    public static string N(long value) => value.ToString(CultureInfo.InvariantCulture);

    public static string Time(DateTimeOffset at) => at.UtcDateTime.ToString("yyyy-MM-dd HH:mm:ss'Z'", CultureInfo.InvariantCulture);

    /// <summary>A time as a &lt;time&gt; element.</summary>
    public static string TimeTag(DateTimeOffset at) =>
        $"<time datetime=\"{at.UtcDateTime.ToString("yyyy-MM-ddTHH:mm:ssZ", CultureInfo.InvariantCulture)}\">{Time(at)}</time>";

    /// <summary>A duration a person reads at a glance: 45s, 3m 20s, 2h 5m, 3d 4h.</summary>
    public static string Span(long seconds)
    {
        if (seconds < 0) seconds = 0;
        var span = TimeSpan.FromSeconds(seconds);
        return span.TotalDays >= 1 ? $"{N((long)span.TotalDays)}d {N(span.Hours)}h"
            : span.TotalHours >= 1 ? $"{N((long)span.TotalHours)}h {N(span.Minutes)}m"
            : span.TotalMinutes >= 1 ? $"{N((long)span.TotalMinutes)}m {N(span.Seconds)}s"
            : $"{N(span.Seconds)}s";
    }

    public static string Span(TimeSpan span) => Span((long)span.TotalSeconds);

    private static readonly JsonSerializerOptions Indented = new() { WriteIndented = true, Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping };

    /// <summary>Stored JSON shown as indented JSON in a &lt;pre&gt;, escaped; "none" when absent.</summary>
    public static string Json(JsonElement? value)
    {
        if (value is not { } element || element.ValueKind is JsonValueKind.Null or JsonValueKind.Undefined) return "<span class=\"muted\">none</span>";
        return $"<pre class=\"json\">{E(JsonSerializer.Serialize(element, Indented))}</pre>";
    }

    /// <summary>Parameters on one line (<c>groups=["Domain Admins"]</c>), or nothing.</summary>
    public static string Inline(JsonElement? value)
    {
        if (value is not { ValueKind: JsonValueKind.Object } element) return value is { } v && v.ValueKind is not (JsonValueKind.Null or JsonValueKind.Undefined) ? E(v.GetRawText()) : "";
        var parts = element.EnumerateObject().Select(p => p.Name + "=" + p.Value.GetRawText());
        return E(string.Join(' ', parts));
    }

    /// <summary>A status word as a badge whose class gives its colour (and whose text says it, so colour is never the only sign).</summary>
    public static string Status(string status) => $"<span class=\"badge s-{E(status)}\">{E(status)}</span>";

    public static StringBuilder Add(this StringBuilder html, string text) => html.Append(text);
}
