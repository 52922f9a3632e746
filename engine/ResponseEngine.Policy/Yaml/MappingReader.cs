using System.Collections.Immutable;
using System.Globalization;
using ResponseEngine.Diagnostics;

namespace ResponseEngine.Policy.Yaml;

/// <summary>
/// Reads the fields of one YAML mapping with positioned diagnostics: unknown keys (with a suggestion), missing
/// required fields, and values of the wrong type.
/// </summary>
public sealed class MappingReader
{
    private readonly YMapping _map;
    private readonly string _context;
    private readonly DiagnosticBag _bag;

    public MappingReader(YMapping map, string context, IReadOnlyCollection<string> knownKeys, DiagnosticBag bag)
    {
        _map = map;
        _context = context;
        _bag = bag;
        foreach (var entry in map.Entries)
        {
            if (!knownKeys.Contains(entry.Key.Value))
            {
                bag.Error(DiagnosticCodes.UnknownKey, entry.Key.Location, $"unknown key '{entry.Key.Value}' in {context}",
                    Suggest.DidYouMean(entry.Key.Value, knownKeys));
            }
        }
    }

    public SourceLocation Location => _map.Location;

    public YMapping Map => _map;

    /// <summary>Reads a mapping node, or reports that the node is not one.</summary>
    public static MappingReader? Open(YNode? node, string context, IReadOnlyCollection<string> knownKeys, DiagnosticBag bag)
    {
        if (node is YMapping map) return new MappingReader(map, context, knownKeys, bag);
        if (node is not null)
            bag.Error(DiagnosticCodes.WrongType, node.Location, $"{context} must be a mapping of keys to values, found {node.KindName}");
        return null;
    }

    public YNode? Node(string key, bool required, string? hint = null)
    {
        var node = _map[key];
        if (node is null || node is YScalar { IsNull: true })
        {
            if (required)
                _bag.Error(DiagnosticCodes.MissingField, node?.Location ?? _map.Location, $"missing required field '{key}' in {_context}", hint);
            return null;
        }

        return node;
    }

    public YScalar? Scalar(string key, bool required, string? hint = null)
    {
        var node = Node(key, required, hint);
        if (node is null) return null;
        if (node is YScalar scalar) return scalar;
        _bag.Error(DiagnosticCodes.WrongType, node.Location, $"field '{key}' must be a single value, found {node.KindName}", hint);
        return null;
    }

    public string? String(string key, bool required, string? hint = null)
    {
        var scalar = Scalar(key, required, hint);
        if (scalar is null) return null;
        if (scalar.IsPlain && (scalar.AsBool is not null))
        {
            _bag.Error(DiagnosticCodes.WrongType, scalar.Location, $"field '{key}' must be text, found {scalar.KindName}", "quote it if you mean the text");
            return null;
        }

        if (string.IsNullOrWhiteSpace(scalar.Value))
        {
            _bag.Error(DiagnosticCodes.MissingField, scalar.Location, $"field '{key}' is empty", hint);
            return null;
        }

        return scalar.Value;
    }

    public bool? Bool(string key)
    {
        var scalar = Scalar(key, false);
        if (scalar is null) return null;
        if (scalar.AsBool is { } flag) return flag;
        _bag.Error(DiagnosticCodes.WrongType, scalar.Location, $"field '{key}' must be true or false, found {scalar.KindName} '{scalar.Value}'");
        return null;
    }

    public long? Integer(string key, long min, long max)
    {
        var scalar = Scalar(key, false);
        if (scalar is null) return null;
        if (scalar.AsInteger is { } number)
        {
            if (number >= min && number <= max) return number;
            _bag.Error(DiagnosticCodes.InvalidValue, scalar.Location, $"field '{key}' is {number}; it must be between {min} and {max}");
            return null;
        }

        _bag.Error(DiagnosticCodes.WrongType, scalar.Location, $"field '{key}' must be a whole number, found {scalar.KindName} '{scalar.Value}'");
        return null;
    }

    /// <summary>A value from a fixed set, with a suggestion for near misses.</summary>
    public string? Choice(string key, bool required, IReadOnlyCollection<string> allowed, string code = DiagnosticCodes.InvalidValue)
    {
        var scalar = Scalar(key, required, $"use one of: {string.Join(", ", allowed)}");
        if (scalar is null) return null;
        if (allowed.Contains(scalar.Value)) return scalar.Value;
        _bag.Error(code, scalar.Location, $"field '{key}' is '{scalar.Value}'", Suggest.DidYouMean(scalar.Value, allowed));
        return null;
    }

    public DateOnly? Date(string key)
    {
        var scalar = Scalar(key, false);
        if (scalar is null) return null;
        if (DateOnly.TryParseExact(scalar.Value, "yyyy-MM-dd", CultureInfo.InvariantCulture, DateTimeStyles.None, out var date)) return date;
        _bag.Error(DiagnosticCodes.InvalidDate, scalar.Location, $"field '{key}' is '{scalar.Value}', not a date", "write it as YYYY-MM-DD, e.g. 2027-06-30");
        return null;
    }

    /// <summary>A list of scalars, each checked by <paramref name="accept"/>.</summary>
    public ImmutableArray<(string Value, SourceLocation Location)>? Strings(string key, bool required, bool allowEmpty = false, string? hint = null)
    {
        var node = Node(key, required, hint);
        if (node is null) return null;
        if (node is YScalar single)
        {
            _bag.Error(DiagnosticCodes.WrongType, single.Location, $"field '{key}' must be a list, found {single.KindName}", $"write [{single.Value}]");
            return null;
        }

        if (node is not YSequence sequence)
        {
            _bag.Error(DiagnosticCodes.WrongType, node.Location, $"field '{key}' must be a list, found {node.KindName}");
            return null;
        }

        if (sequence.Items.IsEmpty && !allowEmpty)
        {
            _bag.Error(DiagnosticCodes.EmptyList, sequence.Location, $"field '{key}' must list at least one value", hint);
            return null;
        }

        var builder = ImmutableArray.CreateBuilder<(string, SourceLocation)>();
        var ok = true;
        foreach (var item in sequence.Items)
        {
            if (item is YScalar { IsNull: false } scalar)
            {
                builder.Add((scalar.Value, scalar.Location));
            }
            else
            {
                _bag.Error(DiagnosticCodes.WrongType, item.Location, $"each item of '{key}' must be a single value, found {item.KindName}");
                ok = false;
            }
        }

        return ok ? builder.ToImmutable() : null;
    }
}
