using System.Globalization;
using System.Text;

namespace ResponseEngine.Diagnostics;

/// <summary>
/// The one escape for untrusted text on a terminal or a text log line: C0 and C1 controls, DEL, line and paragraph
/// separators, bidirectional overrides and lone surrogates are written as visible escapes (\n, \e, \x07, \u2028, \u202e,
/// \ud800), so data can neither move the cursor, recolour the screen, forge an extra line nor reorder what a reader sees.
/// </summary>
public static class Printable
{
    public static string Escape(string? text)
    {
        if (string.IsNullOrEmpty(text)) return text ?? "";
        if (!text.Any(c => NeedsEscape(c) || char.IsSurrogate(c))) return text;
        var builder = new StringBuilder(text.Length + 16);
        for (var i = 0; i < text.Length; i++)
        {
            var c = text[i];
            if (char.IsHighSurrogate(c) && i + 1 < text.Length && char.IsLowSurrogate(text[i + 1]))
            {
                builder.Append(c).Append(text[++i]);
            }
            else if (NeedsEscape(c) || char.IsSurrogate(c))
            {
                builder.Append(c switch
                {
                    '\n' => "\\n",
                    '\r' => "\\r",
                    '\t' => "\\t",
                    '\u001b' => "\\e",
                    _ when c <= '\u00ff' => "\\x" + ((int)c).ToString("x2", CultureInfo.InvariantCulture),
                    _ => "\\u" + ((int)c).ToString("x4", CultureInfo.InvariantCulture),
                });
            }
            else
            {
                builder.Append(c);
            }
        }

        return builder.ToString();
    }

    private static bool NeedsEscape(char c) =>
        c < ' ' || (c >= '\u007f' && c <= '\u009f') || c is '\u2028' or '\u2029' || c is >= '\u202a' and <= '\u202e' || c is >= '\u2066' and <= '\u2069';
}
