using System.Collections.Frozen;
using System.Collections.Immutable;
using ResponseEngine.Actions.Catalogue;

namespace ResponseEngine.Actions;

/// <summary>The registry of every action a rule may name.</summary>
public sealed class ActionCatalogue
{
    private readonly FrozenDictionary<string, ActionDefinition> _byName;

    public ActionCatalogue(IEnumerable<ActionDefinition> actions)
    {
        All = [.. actions.OrderBy(a => a.Name, StringComparer.Ordinal)];
        _byName = All.ToFrozenDictionary(a => a.Name, StringComparer.Ordinal);
    }

    public static ActionCatalogue Default { get; } = new(
    [
        new DisableUser(), new EnableUser(), new ResetPassword(), new RevokeSessions(), new RevokeGroup(),
        new RemoveRoleAssignment(), new EnforceMfa(), new EnforcePhishingResistantMfa(), new MarkCompromised(), new DeactivateUser(),
    ]);

    public ImmutableArray<ActionDefinition> All { get; }

    public IEnumerable<string> Names => All.Select(a => a.Name);

    public ActionDefinition? Find(string name) => _byName.GetValueOrDefault(name);
}
