using System.Globalization;
using System.Text;

namespace ResponseEngine.Cli.Rendering;

/// <summary>
/// Untrusted text (finding ids, subjects, reasons that quote them) made safe to show: a terminal must not receive an
/// escape sequence or a newline that forges output lines from data, and a pull-request comment must not receive
/// Markdown or HTML that data could use to add links, images, mentions or markup.
/// </summary>
internal static class DisplayText
{
    /// <summary>C0 and C1 controls, DEL and bidirectional overrides written as \n, \t, \r or \u{XXXX}; other text unchanged.</summary>
    public static string Escape(string? text)
    {
        if (string.IsNullOrEmpty(text)) return text ?? "";
        if (!text.Any(IsUnsafe)) return text;
        var builder = new StringBuilder(text.Length + 16);
        foreach (var c in text)
        {
            if (!IsUnsafe(c)) builder.Append(c);
            else if (c == '\n') builder.Append("\\n");
            else if (c == '\r') builder.Append("\\r");
            else if (c == '\t') builder.Append("\\t");
            else builder.Append("\\u{").Append(((int)c).ToString("X4", CultureInfo.InvariantCulture)).Append('}');
        }

        return builder.ToString();
    }

    /// <summary>Escape, then every Markdown and HTML metacharacter neutralised, for text inside a comment (table cells included).</summary>
    public static string Markdown(string? text)
    {
        var safe = Escape(text);
        var builder = new StringBuilder(safe.Length + 16);
        foreach (var c in safe)
        {
            switch (c)
            {
                case '<': builder.Append("&lt;"); break;
                case '>': builder.Append("&gt;"); break;
                case '&': builder.Append("&amp;"); break;
                case '\\' or '`' or '*' or '_' or '[' or ']' or '|' or '#' or '!' or '~' or '@' or ':':
                    builder.Append('\\').Append(c);
                    break;
                default: builder.Append(c); break;
            }
        }

        return builder.ToString();
    }

    /// <summary>Escape, then HTML-encoded (and @ as an entity, so no mention), for text inside an HTML element of a comment, where Markdown escapes are not read.</summary>
    public static string Html(string? text) => System.Net.WebUtility.HtmlEncode(Escape(text)).Replace("@", "&#64;", StringComparison.Ordinal);

    private static bool IsUnsafe(char c) =>
        c < 0x20 || c is >= '\u007F' and <= '\u009F' || c is >= '\u202A' and <= '\u202E' || c is >= '\u2066' and <= '\u2069';
}
