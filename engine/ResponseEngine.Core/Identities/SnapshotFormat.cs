using System.Globalization;
using System.Text;
using System.Text.Encodings.Web;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace ResponseEngine.Identities;

/// <summary>
/// Writes a snapshot the way samples/directory.json is laid out: one group or user per line, so that a diff between
/// the sample and the working copy shows exactly the accounts the engine changed.
/// </summary>
public static class SnapshotFormat
{
    private static readonly JsonSerializerOptions ValueOptions = new() { Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping };

    public static byte[] Write(JsonObject root)
    {
        var text = new StringBuilder(1 << 16);
        text.Append("{\n");
        var index = 0;
        foreach (var (key, value) in root)
        {
            text.Append("  ").Append(Quote(key)).Append(": ");
            if (value is JsonArray array && array.Count > 0 && array.All(item => item is JsonObject))
            {
                text.Append("[\n");
                for (var i = 0; i < array.Count; i++)
                {
                    text.Append("    ");
                    Compact(array[i], text);
                    if (i < array.Count - 1) text.Append(',');
                    text.Append('\n');
                }

                text.Append("  ]");
            }
            else
            {
                Compact(value, text);
            }

            if (++index < root.Count) text.Append(',');
            text.Append('\n');
        }

        text.Append("}\n");
        return Encoding.UTF8.GetBytes(text.ToString());
    }

    /// <summary>RFC 3339 in UTC, with fractions of a second only when there are any.</summary>
    public static string Timestamp(DateTimeOffset value) =>
        value.UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss.FFFFFFF'Z'", CultureInfo.InvariantCulture);

    private static void Compact(JsonNode? node, StringBuilder text)
    {
        switch (node)
        {
            case null:
                text.Append("null");
                break;
            case JsonObject obj:
                text.Append('{');
                var first = true;
                foreach (var (key, value) in obj)
                {
                    if (!first) text.Append(", ");
                    first = false;
                    text.Append(Quote(key)).Append(": ");
                    Compact(value, text);
                }

                text.Append('}');
                break;
            case JsonArray array:
                text.Append('[');
                for (var i = 0; i < array.Count; i++)
                {
                    if (i > 0) text.Append(", ");
                    Compact(array[i], text);
                }

                text.Append(']');
                break;
            default:
                text.Append(node.ToJsonString(ValueOptions));
                break;
        }
    }

    private static string Quote(string key) => JsonValue.Create(key).ToJsonString(ValueOptions);
}
