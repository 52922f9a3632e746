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

    /// <summary>
    /// Parameters back from their <see cref="Canonical"/> JSON (an audit row's), so an open intent's effect can be worked
    /// out again; null when the text is not such an object.
    /// </summary>
    public static ActionParameters? Parse(string? canonical)
    {
        if (string.IsNullOrWhiteSpace(canonical)) return Empty;
        try
        {
            using var document = JsonDocument.Parse(canonical);
            if (document.RootElement.ValueKind != JsonValueKind.Object) return null;
            var values = ImmutableSortedDictionary.CreateBuilder<string, object>(StringComparer.Ordinal);
            foreach (var property in document.RootElement.EnumerateObject())
            {
                object? value = property.Value.ValueKind switch
                {
                    JsonValueKind.String => property.Value.GetString()!,
                    JsonValueKind.True => true,
                    JsonValueKind.False => false,
                    JsonValueKind.Number when property.Value.TryGetInt64(out var number) => number,
                    JsonValueKind.Array when property.Value.EnumerateArray().All(i => i.ValueKind == JsonValueKind.String) =>
                        property.Value.EnumerateArray().Select(i => i.GetString()!).ToImmutableArray(),
                    _ => null,
                };
                if (value is null) return null;
                values[property.Name] = value;
            }

            return new ActionParameters(values.ToImmutable());
        }
        catch (JsonException)
        {
            return null;
        }
    }

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
