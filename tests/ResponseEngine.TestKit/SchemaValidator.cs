using NJsonSchema;

namespace ResponseEngine.TestKit;

/// <summary>Validates JSON text against one of the repository's schemas, returning the errors as readable lines.</summary>
public static class SchemaValidator
{
    private static readonly Dictionary<string, JsonSchema> Cache = [];

    public static IReadOnlyList<string> Validate(string schemaName, string json)
    {
        JsonSchema schema;
        lock (Cache)
        {
            if (!Cache.TryGetValue(schemaName, out schema!))
            {
                schema = JsonSchema.FromFileAsync(RepoPaths.Schema(schemaName)).GetAwaiter().GetResult();
                Cache[schemaName] = schema;
            }
        }

        return [.. schema.Validate(json).Select(e => $"{e.Path}: {e.Kind} {e.Property}")];
    }
}
