using System.Collections.Immutable;
using ResponseEngine.Actions;
using ResponseEngine.Diagnostics;
using ResponseEngine.Findings;
using ResponseEngine.Policy.Yaml;

namespace ResponseEngine.Policy.Rules;

/// <summary>Binds the <c>with:</c> of an action to the parameters the action declares.</summary>
internal static class ParameterBinder
{
    /// <param name="requireAll">False for test expectations, which name only the parameters they check.</param>
    public static ActionParameters? Bind(ActionDefinition action, YNode? with, IReadOnlyList<Provider> providers, bool requireAll, DiagnosticBag bag, SourceLocation actionLocation)
    {
        var errors = bag.Items.Count(d => d.IsError);
        var values = ImmutableSortedDictionary.CreateBuilder<string, object>(StringComparer.Ordinal);
        var specs = action.Parameters;
        YMapping? map = null;
        if (with is YMapping mapping)
        {
            map = mapping;
        }
        else if (with is not null && with is not YScalar { IsNull: true })
        {
            bag.Error(DiagnosticCodes.WrongType, with.Location, $"'with' of '{action.Name}' must be a mapping of parameters, found {with.KindName}");
            return null;
        }

        foreach (var entry in map?.Entries ?? [])
        {
            var spec = specs.FirstOrDefault(s => s.Name == entry.Key.Value);
            if (spec is null)
            {
                var hint = specs.IsEmpty ? $"'{action.Name}' takes no parameters" : Suggest.DidYouMean(entry.Key.Value, [.. specs.Select(s => s.Name)]);
                bag.Error(DiagnosticCodes.UnknownParameter, entry.Key.Location, $"'{action.Name}' has no parameter '{entry.Key.Value}'", hint);
                continue;
            }

            if (!spec.OnlyFor.IsEmpty && providers.Any(p => !spec.OnlyFor.Contains(p)) && requireAll)
            {
                bag.Error(DiagnosticCodes.BadParameter, entry.Key.Location,
                    $"parameter '{spec.Name}' of '{action.Name}' applies only to {string.Join(", ", spec.OnlyFor.Select(p => p.Name()))}",
                    $"limit match.providers to {string.Join(", ", spec.OnlyFor.Select(p => p.Name()))} or drop the parameter");
            }

            var value = Convert(spec, entry.Value, action, bag);
            if (value is not null) values[spec.Name] = value;
        }

        if (requireAll)
        {
            foreach (var spec in specs.Where(s => s.Required && !values.ContainsKey(s.Name)))
            {
                if (map is null || map.Entry(spec.Name) is null)
                {
                    bag.Error(DiagnosticCodes.MissingParameter, map?.Location ?? actionLocation, $"'{action.Name}' needs parameter '{spec.Name}' ({spec.TypeName})",
                        $"add with: {{ {spec.Name}: ... }} — {spec.Description}");
                }
            }
        }

        return bag.Items.Count(d => d.IsError) > errors ? null : new ActionParameters(values.ToImmutable());
    }

    private static object? Convert(ParameterSpec spec, YNode node, ActionDefinition action, DiagnosticBag bag)
    {
        var label = $"parameter '{spec.Name}' of '{action.Name}'";
        switch (spec.Type)
        {
            case ParameterType.String when node is YScalar { IsNull: false } scalar && !string.IsNullOrWhiteSpace(scalar.Value):
                return scalar.Value;
            case ParameterType.Boolean when node is YScalar { AsBool: { } flag }:
                return flag;
            case ParameterType.Integer when node is YScalar { AsInteger: { } number }:
                return number;
            case ParameterType.StringList when node is YSequence sequence:
                if (sequence.Items.IsEmpty)
                {
                    bag.Error(DiagnosticCodes.BadParameter, node.Location, $"{label} needs at least one value");
                    return null;
                }

                var items = ImmutableArray.CreateBuilder<string>();
                foreach (var item in sequence.Items)
                {
                    if (item is YScalar { IsNull: false } text && !string.IsNullOrWhiteSpace(text.Value)) items.Add(text.Value);
                    else bag.Error(DiagnosticCodes.BadParameter, item.Location, $"each value of {label} must be a name, found {item.KindName}");
                }

                return items.ToImmutable();
            case ParameterType.StringList when node is YScalar { IsNull: false } single:
                bag.Error(DiagnosticCodes.BadParameter, node.Location, $"{label} must be a list, found {single.KindName}", $"write [{single.Value}]");
                return null;
            default:
                bag.Error(DiagnosticCodes.BadParameter, node.Location, $"{label} must be {Article(spec.TypeName)}, found {node.KindName}", spec.Description);
                return null;
        }
    }

    private static string Article(string typeName) => typeName switch
    {
        "integer" => "an integer",
        "list of strings" => "a list of strings",
        _ => "a " + typeName,
    };
}
