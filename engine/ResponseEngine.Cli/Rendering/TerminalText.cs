using System.Globalization;
using System.Text;

namespace ResponseEngine.Cli.Rendering;

/// <summary>
/// Text from data (findings, directories, the trail) made safe for a terminal line: C0 and C1 control characters, DEL
/// line or paragraph separators and bidirectional overrides are written as visible escapes (\n, \e, \x07, \u2028, \u202e), so
/// data can neither move the cursor, recolour the screen, forge an extra line nor reorder what a reader sees.
/// </summary>
public static class TerminalText
{
    public static string Escape(string? text)
    {
        if (string.IsNullOrEmpty(text)) return text ?? "";
        if (!text.Any(NeedsEscape)) return text;
        var builder = new StringBuilder(text.Length + 16);
        foreach (var c in text)
        {
            if (!NeedsEscape(c))
            {
                builder.Append(c);
                continue;
            }

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

        return builder.ToString();
    }

    private static bool NeedsEscape(char c) =>
        c < ' ' || (c >= '\u007f' && c <= '\u009f') || c is '\u2028' or '\u2029' || c is >= '\u202a' and <= '\u202e' || c is >= '\u2066' and <= '\u2069';
}
