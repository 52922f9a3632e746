using System.Globalization;
using System.Text.Json.Nodes;
using YamlDotNet.Core;

namespace ResponseEngine.Policy.Yaml;

/// <summary>Converts YAML nodes to JSON with the YAML 1.2 core schema: plain true/false/numbers/null are typed, quoted text stays text.</summary>
public static class YamlJson
{
    public static JsonNode? ToJson(YNode node) => node switch
    {
        YScalar scalar => Scalar(scalar),
        YSequence sequence => new JsonArray([.. sequence.Items.Select(ToJson)]),
        YMapping mapping => new JsonObject(mapping.Entries.Select(e => KeyValuePair.Create(e.Key.Value, ToJson(e.Value)))),
        _ => null,
    };

    private static JsonNode? Scalar(YScalar scalar)
    {
        if (scalar.Style != ScalarStyle.Plain) return JsonValue.Create(scalar.Value);
        if (scalar.IsNull) return null;
        if (scalar.AsBool is { } flag) return JsonValue.Create(flag);
        if (scalar.AsInteger is { } number) return JsonValue.Create(number);
        if (double.TryParse(scalar.Value, NumberStyles.Float, CultureInfo.InvariantCulture, out var real) && !double.IsNaN(real) && !double.IsInfinity(real)
            && scalar.Value.Any(char.IsDigit))
        {
            return JsonValue.Create(real);
        }

        return JsonValue.Create(scalar.Value);
    }
}
