using System.Collections.Immutable;
using ResponseEngine.Diagnostics;
using YamlDotNet.Core;

namespace ResponseEngine.Policy.Yaml;

/// <summary>A YAML node that remembers where it was written, so every diagnostic can point at it.</summary>
public abstract record YNode(SourceLocation Location)
{
    public abstract string KindName { get; }
}

public sealed record YScalar(SourceLocation Location, string Value, ScalarStyle Style) : YNode(Location)
{
    public bool IsPlain => Style == ScalarStyle.Plain;

    public bool IsNull => IsPlain && Value is "" or "~" or "null" or "Null" or "NULL";

    public bool? AsBool => IsPlain ? Value switch
    {
        "true" or "True" or "TRUE" => true,
        "false" or "False" or "FALSE" => false,
        _ => null,
    } : null;

    public long? AsInteger => IsPlain && long.TryParse(Value, System.Globalization.NumberStyles.AllowLeadingSign, System.Globalization.CultureInfo.InvariantCulture, out var number) ? number : null;

    public override string KindName => IsNull ? "null"
        : AsBool is not null ? "a boolean"
        : AsInteger is not null ? "a number"
        : string.IsNullOrWhiteSpace(Value) ? "an empty string"
        : "a string";
}

public sealed record YSequence(SourceLocation Location, ImmutableArray<YNode> Items) : YNode(Location)
{
    public override string KindName => "a list";
}

public sealed record YEntry(YScalar Key, YNode Value);

public sealed record YMapping(SourceLocation Location, ImmutableArray<YEntry> Entries) : YNode(Location)
{
    public override string KindName => "a mapping";

    public YNode? this[string key] => Entries.FirstOrDefault(e => e.Key.Value == key)?.Value;

    public YEntry? Entry(string key) => Entries.FirstOrDefault(e => e.Key.Value == key);
}
