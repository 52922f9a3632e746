using System.Text.Json.Nodes;
using ResponseEngine.Identities;

namespace ResponseEngine.Connectors.Local;

/// <summary>
/// One account of the working copy: the facts as the snapshot reader sees them, and the JSON entry to edit. Edits keep
/// the entry minimal: a value equal to the format's default is removed rather than written.
/// </summary>
internal sealed class LocalUser
{
    public LocalUser(Identity identity, JsonObject entry)
    {
        Identity = identity;
        Entry = entry;
    }

    /// <summary>The account before this change.</summary>
    public Identity Identity { get; }

    public JsonObject Entry { get; }

    /// <summary>The Okta status, or what an Okta account without one means: ACTIVE when enabled, SUSPENDED when not.</summary>
    public string OktaStatus => EffectiveOktaStatus(Identity);

    public static string EffectiveOktaStatus(Identity identity) =>
        identity.OktaStatus ?? (identity.Enabled ? OktaStatuses.Active : OktaStatuses.Suspended);

    public void SetEnabled(bool enabled) => SetFlag("enabled", enabled, fallback: true);

    /// <summary>Okta status decides whether the account can sign in, so 'enabled' is left to follow from it.</summary>
    public void SetOktaStatus(string status)
    {
        Entry["okta_status"] = status;
        Entry.Remove("enabled");
    }

    public void SetFlag(string name, bool value, bool fallback = false)
    {
        if (value == fallback) Entry.Remove(name);
        else Entry[name] = value;
    }

    public void SetText(string name, string? value)
    {
        if (value is null) Entry.Remove(name);
        else Entry[name] = value;
    }

    public IReadOnlyList<string> List(string name) =>
        Entry[name] is JsonArray array ? [.. array.Select(item => item!.GetValue<string>())] : [];

    /// <summary>Removes the names (without case) and returns those that were there.</summary>
    public IReadOnlyList<string> RemoveFromList(string name, IEnumerable<string> names)
    {
        var remove = names.ToHashSet(StringComparer.OrdinalIgnoreCase);
        var current = List(name);
        var removed = current.Where(remove.Contains).ToList();
        SetList(name, current.Where(item => !remove.Contains(item)));
        return removed;
    }

    public void AddToList(string name, IEnumerable<string> names)
    {
        var current = List(name).ToList();
        foreach (var item in names)
        {
            if (!current.Contains(item, StringComparer.OrdinalIgnoreCase)) current.Add(item);
        }

        SetList(name, current);
    }

    private void SetList(string name, IEnumerable<string> items)
    {
        var array = new JsonArray([.. items.Select(item => (JsonNode)JsonValue.Create(item))]);
        if (array.Count == 0) Entry.Remove(name);
        else Entry[name] = array;
    }
}
