using System.Collections.Immutable;
using System.Text.Json;
using ResponseEngine.Findings;
using ResponseEngine.Rules;

namespace ResponseEngine.Policy.Conditions;

/// <summary>The static type of a condition expression, checked at load.</summary>
internal enum VType
{
    Null,
    Bool,
    Number,
    String,
    Severity,
    List,

    /// <summary>Known only at run time (finding attributes).</summary>
    Any,
}

/// <summary>A run-time value; a struct so that evaluating a condition allocates nothing.</summary>
internal readonly struct Value
{
    public static Value Null => default;
    public static readonly Value True = new(VType.Bool, 1, null);
    public static readonly Value False = new(VType.Bool, 0, null);

    private Value(VType type, double number, object? reference)
    {
        Type = type;
        Number = number;
        Reference = reference;
    }

    public VType Type { get; }

    public double Number { get; }

    public object? Reference { get; }

    public string Text => (string)Reference!;

    public IEnumerable<string> Items => (IEnumerable<string>)Reference!;

    public static Value Of(bool flag) => flag ? True : False;

    public static Value Of(double number) => new(VType.Number, number, null);

    public static Value Of(string? text) => text is null ? Null : new(VType.String, 0, text);

    public static Value Of(Severity severity) => new(VType.Severity, (int)severity, severity.Name());

    public static Value OfList(IEnumerable<string> items) => new(VType.List, 0, items);

    public static Value FromJson(JsonElement element) => element.ValueKind switch
    {
        JsonValueKind.String => Of(element.GetString()),
        JsonValueKind.Number => Of(element.GetDouble()),
        JsonValueKind.True => True,
        JsonValueKind.False => False,
        JsonValueKind.Array when element.EnumerateArray().All(e => e.ValueKind == JsonValueKind.String) =>
            OfList(element.EnumerateArray().Select(e => e.GetString()!).ToImmutableArray()),
        JsonValueKind.Null or JsonValueKind.Undefined => Null,
        _ => throw new ConditionException($"attribute value {element.GetRawText()} is {element.ValueKind.ToString().ToLowerInvariant()}, which conditions cannot compare"),
    };

    public bool AsBool(string what) => Type switch
    {
        VType.Bool => Number != 0,
        VType.Null => false,
        _ => throw new ConditionException($"{what} is {Describe()}, not true or false"),
    };

    public string Describe() => Type switch
    {
        VType.Null => "missing",
        VType.Bool => Number != 0 ? "true" : "false",
        VType.Number => $"the number {Number.ToString(System.Globalization.CultureInfo.InvariantCulture)}",
        VType.String => $"the string '{Text}'",
        VType.Severity => $"severity '{Reference}'",
        VType.List => "a list",
        _ => "a value",
    };

    public static string TypeName(VType type) => type switch
    {
        VType.Null => "null",
        VType.Bool => "a boolean",
        VType.Number => "a number",
        VType.String => "a string",
        VType.Severity => "a severity",
        VType.List => "a list",
        _ => "a value",
    };
}
