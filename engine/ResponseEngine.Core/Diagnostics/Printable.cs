using System.Globalization;
using System.Text;

namespace ResponseEngine.Diagnostics;

/// <summary>Text from untrusted data made safe for a terminal or a log line: control characters (and lone surrogates) are written as escapes.</summary>
public static class Printable
{
    public static string Escape(string? text)
    {
        if (string.IsNullOrEmpty(text)) return text ?? "";
        if (!text.Any(c => char.IsControl(c) || char.IsSurrogate(c))) return text;
        var builder = new StringBuilder(text.Length + 16);
        for (var i = 0; i < text.Length; i++)
        {
            var c = text[i];
            if (char.IsHighSurrogate(c) && i + 1 < text.Length && char.IsLowSurrogate(text[i + 1]))
            {
                builder.Append(c).Append(text[++i]);
            }
            else if (char.IsControl(c) || char.IsSurrogate(c))
            {
                builder.Append(c switch { '\n' => "\\n", '\r' => "\\r", '\t' => "\\t", _ => "\\u" + ((int)c).ToString("x4", CultureInfo.InvariantCulture) });
            }
            else
            {
                builder.Append(c);
            }
        }

        return builder.ToString();
    }
}
