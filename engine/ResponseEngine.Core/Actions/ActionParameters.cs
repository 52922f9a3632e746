using System.Collections.Immutable;
using System.Text;
using System.Text.Json;

namespace ResponseEngine.Actions;

/// <summary>
/// An action's bound parameters: values are strings, booleans, integers or lists of strings, kept in key order
/// so that equal parameters always print and hash the same way.
/// </summary>
public sealed class ActionParameters : IEquatable<ActionParameters>
{
    private string? _canonical;

    public ActionParameters(ImmutableSortedDictionary<string, object> values)
    {
        Values = values;
    }

    public static ActionParameters Empty { get; } = new(ImmutableSortedDictionary.Create<string, object>(StringComparer.Ordinal));

    public ImmutableSortedDictionary<string, object> Values { get; }

    public bool IsEmpty => Values.IsEmpty;

    public ImmutableArray<string> Strings(string name) =>
        Values.TryGetValue(name, out var value) && value is ImmutableArray<string> list ? list : [];

    public string? String(string name) => Values.TryGetValue(name, out var value) ? value as string : null;

    public bool Bool(string name, bool fallback = false) =>
        Values.TryGetValue(name, out var value) && value is bool flag ? flag : fallback;

    public ActionParameters With(string name, object value) => new(Values.SetItem(name, value));

    /// <summary>Compact JSON with sorted keys: the form used for display, hashing and equality.</summary>
    public string Canonical => _canonical ??= ToJson();

    public void WriteTo(Utf8JsonWriter writer)
    {
        writer.WriteStartObject();
        foreach (var (key, value) in Values)
        {
            writer.WritePropertyName(key);
            switch (value)
            {
                case string text: writer.WriteStringValue(text); break;
                case bool flag: writer.WriteBooleanValue(flag); break;
                case long number: writer.WriteNumberValue(number); break;
                case ImmutableArray<string> list:
                    writer.WriteStartArray();
                    foreach (var item in list) writer.WriteStringValue(item);
                    writer.WriteEndArray();
                    break;
                default: throw new InvalidOperationException($"unsupported parameter value {value.GetType()}");
            }
        }

        writer.WriteEndObject();
    }

    private string ToJson()
    {
        using var stream = new MemoryStream();
        using (var writer = new Utf8JsonWriter(stream))
        {
            WriteTo(writer);
        }

        return Encoding.UTF8.GetString(stream.ToArray());
    }

    /// <summary>Short human form, e.g. <c>groups=[Domain Admins, Enterprise Admins]</c>.</summary>
    public string Describe() => string.Join(", ", Values.Select(kv => kv.Value switch
    {
        ImmutableArray<string> list => $"{kv.Key}=[{string.Join(", ", list)}]",
        bool flag => $"{kv.Key}={(flag ? "true" : "false")}",
        _ => $"{kv.Key}={kv.Value}",
    }));

    public bool Equals(ActionParameters? other) => other is not null && Canonical == other.Canonical;

    public override bool Equals(object? obj) => Equals(obj as ActionParameters);

    public override int GetHashCode() => StringComparer.Ordinal.GetHashCode(Canonical);

    public override string ToString() => Canonical;
}
