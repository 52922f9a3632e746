using System.Text;

namespace ResponseEngine.Cli.Rendering;

/// <summary>
/// Untrusted text (finding ids, subjects, rule settings under review) made safe inside a pull-request comment, where
/// data must not add links, images, mentions or markup; control characters are escaped first as on a terminal
/// (<see cref="TerminalText"/>).
/// </summary>
internal static class DisplayText
{
    /// <summary>Every Markdown and HTML metacharacter neutralised, for text in Markdown (table cells and list items included).</summary>
    public static string Markdown(string? text)
    {
        var safe = TerminalText.Escape(text);
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

    /// <summary>HTML-encoded (and @ as an entity, so no mention), for text inside an HTML element of a comment or page, where Markdown escapes are not read.</summary>
    public static string Html(string? text) => System.Net.WebUtility.HtmlEncode(TerminalText.Escape(text)).Replace("@", "&#64;", StringComparison.Ordinal);
}
