using System.Text.Json;

namespace ResponseEngine.Findings;

/// <summary>
/// Checks that every string and property name of a parsed JSON value can be read as text: System.Text.Json accepts a
/// lone surrogate escape (<c>"\ud800"</c>) or an invalid UTF-8 byte while parsing and only throws when the string is
/// read, so untrusted records are checked once, up front, and the bad field is named instead of crashing later.
/// </summary>
public static class JsonText
{
    /// <summary>The JSON pointer (RFC 6901) of the first string that is not valid Unicode, or null when every string is.</summary>
    public static string? FirstUnreadable(JsonElement element) => Walk(element, "");

    /// <summary>A JSON pointer segment: <c>~</c> and <c>/</c> escaped as RFC 6901 says.</summary>
    public static string Segment(string name)
    {
        ArgumentNullException.ThrowIfNull(name);
        return "/" + name.Replace("~", "~0", StringComparison.Ordinal).Replace("/", "~1", StringComparison.Ordinal);
    }

    private static string? Walk(JsonElement element, string pointer)
    {
        switch (element.ValueKind)
        {
            case JsonValueKind.String:
                return Readable(element) ? null : pointer;
            case JsonValueKind.Array:
                var index = 0;
                foreach (var item in element.EnumerateArray())
                {
                    if (Walk(item, pointer + "/" + index.ToString(System.Globalization.CultureInfo.InvariantCulture)) is { } bad) return bad;
                    index++;
                }

                return null;
            case JsonValueKind.Object:
                var position = 0;
                foreach (var property in element.EnumerateObject())
                {
                    string name;
                    try
                    {
                        name = property.Name;
                    }
                    catch (InvalidOperationException)
                    {
                        return pointer + "/" + "(property " + position.ToString(System.Globalization.CultureInfo.InvariantCulture) + ")";
                    }

                    if (Walk(property.Value, pointer + Segment(name)) is { } bad) return bad;
                    position++;
                }

                return null;
            default:
                return null;
        }
    }

    private static bool Readable(JsonElement element)
    {
        try
        {
            _ = element.GetString();
            return true;
        }
        catch (InvalidOperationException)
        {
            return false;
        }
    }
}
