using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using ResponseEngine.Configuration;
using ResponseEngine.Execution;
using ResponseEngine.Findings;
using ResponseEngine.Identities;
using ResponseEngine.Identities.Privilege;

namespace ResponseEngine.Connectors.Local;

/// <summary>
/// The working copy in memory, indexed so that every question an action asks costs the same at 250 or 100,000 users:
/// the JSON tree (what is written back on compaction), the snapshot as it was read (names, ids and groups, which no
/// action changes), the accounts changed since, and for each provider which accounts hold each group or role directly
/// (to count a critical set from its holders, not from the whole directory). Not thread-safe: <see cref="LocalDirectory"/>
/// uses it under its gate.
/// </summary>
internal sealed class LocalModel
{
    private static readonly JsonDocumentOptions DocumentOptions = new() { CommentHandling = JsonCommentHandling.Skip };
    private static readonly StringComparer Ids = StringComparer.OrdinalIgnoreCase;

    private readonly string _file;
    private readonly PrivilegedPolicy _policy;
    private readonly JsonArray _users;
    private readonly Dictionary<(Provider, string), int> _position = new(KeyComparer.Instance);
    private readonly Dictionary<(Provider, string), Identity> _changed = new(KeyComparer.Instance);
    private readonly Dictionary<(Provider, string), string[]> _targets = new(KeyComparer.Instance);
    private readonly Dictionary<Provider, Dictionary<string, HashSet<string>>> _holders = [];
    private readonly Dictionary<Provider, PrivilegeGraph> _groupGraphs = [];
    private readonly Dictionary<(Provider, string), HashSet<string>> _setNodes = new(KeyComparer.Instance);
    private readonly Dictionary<(Provider, string), CriticalSet> _counted = new(KeyComparer.Instance);
    private readonly byte[] _groupsJson;
    private DirectorySnapshot? _current;

    private LocalModel(string file, PrivilegedPolicy policy, JsonObject root, DirectorySnapshot snapshot)
    {
        _file = file;
        _policy = policy;
        Root = root;
        Base = snapshot;
        _current = snapshot;
        _users = root["users"] as JsonArray ?? [];
        if (root["users"] is null) root["users"] = _users;
        for (var i = 0; i < _users.Count; i++)
        {
            var entry = (JsonObject)_users[i]!;
            _position[(ProviderOf(entry), (string)entry["id"]!)] = i;
        }

        _groupsJson = Encoding.UTF8.GetBytes((root["groups"] ?? new JsonArray()).ToJsonString());
        foreach (var provider in Providers.All)
        {
            var holders = new Dictionary<string, HashSet<string>>(Ids);
            _holders[provider] = holders;
            var graph = snapshot.Graph(provider);
            var targets = new Dictionary<string, List<string>>(Ids);
            foreach (var edge in graph.Edges)
            {
                if (!edge.Confers || graph.Principal(edge.From) is not { Kind: PrincipalKind.User }) continue;
                Holders(holders, edge.To).Add(edge.From);
                if (!targets.TryGetValue(edge.From, out var list)) targets[edge.From] = list = [];
                list.Add(edge.To);
            }

            foreach (var (user, list) in targets) _targets[(provider, user)] = [.. list];
            _groupGraphs[provider] = EffectivePrivilege.Graph(provider, [], snapshot.Groups);
        }
    }

    /// <summary>The JSON tree of the working copy, with every change applied.</summary>
    public JsonObject Root { get; }

    /// <summary>The snapshot as read from the file: ids, names, SIDs and groups, which no action changes.</summary>
    public DirectorySnapshot Base { get; }

    /// <summary>Reads and validates a whole working copy; a bad file is a <see cref="ConnectorException"/> naming its first errors.</summary>
    public static LocalModel Load(byte[] bytes, string file, PrivilegedPolicy policy)
    {
        var load = SnapshotReader.Read(bytes, file, policy);
        if (load.Snapshot is null)
        {
            var errors = load.Diagnostics.Where(d => d.IsError).Take(3).Select(d => d.ToString());
            throw new ConnectorException($"the local directory {file} cannot be read: {string.Join("; ", errors)}");
        }

        var root = JsonNode.Parse(bytes, documentOptions: DocumentOptions) as JsonObject
            ?? throw new ConnectorException($"the local directory {file} is not a JSON object");
        return new LocalModel(file, policy, root, load.Snapshot);
    }

    /// <summary>The working copy as snapshot bytes (the format of samples/directory.json).</summary>
    public byte[] Write() => SnapshotFormat.Write(Root);

    /// <summary>The whole directory as it is now; built again only after a change.</summary>
    public DirectorySnapshot Snapshot()
    {
        if (_current is not null) return _current;
        var load = SnapshotReader.Read(Write(), _file, _policy);
        return _current = load.Snapshot ?? throw new ConnectorException($"the local directory {_file} no longer validates: {string.Join("; ", load.Diagnostics.Where(d => d.IsError).Take(3))}");
    }

    /// <summary>As the snapshot connector resolves (by id, SID or an unambiguous name), answering with the account as it is now.</summary>
    public IdentityLookup Resolve(Provider provider, Subject subject)
    {
        var lookup = SnapshotConnector.Resolve(Base, provider, subject);
        return lookup.Identity is { } found ? IdentityLookup.Found(Current(found)) : lookup;
    }

    /// <summary>The account with this id now, or null.</summary>
    public Identity? Find(Provider provider, string id)
    {
        var found = Base.Resolve(new Subject(provider, id, null)).Identity;
        return found is not null && Ids.Equals(found.Id, id) ? Current(found) : null;
    }

    /// <summary>The account's JSON entry as it is now (the model's own node: clone it before editing).</summary>
    public JsonObject Entry(Provider provider, string id) => (JsonObject)_users[_position[(provider, id)]]!;

    public Group? FindGroup(Provider provider, string name) => Base.FindGroup(provider, name);

    /// <summary>
    /// The enabled holders of a critical set, with the privilege graph of the accounts that can reach it: the groups
    /// nested into the set (fixed: no action changes a group) and the accounts holding one of them directly.
    /// </summary>
    /// <remarks>
    /// Kept until a change touches an account that holds one of the set's nodes directly, before or after the change (the
    /// only accounts the answer depends on): a run of disables of ordinary accounts counts each set once, not per decision.
    /// </remarks>
    public CriticalSet CountCritical(Provider provider, string groupOrRole)
    {
        if (_counted.TryGetValue((provider, groupOrRole), out var counted)) return counted;
        if (!_setNodes.TryGetValue((provider, groupOrRole), out var nodes))
        {
            var graph = _groupGraphs[provider];
            var node = graph.Node(groupOrRole);
            nodes = new HashSet<string>(Ids) { node };
            foreach (var group in graph.Principals.Where(p => p.Kind == PrincipalKind.Group && graph.Reachable(p.Id).Contains(node))) nodes.Add(group.Id);
            _setNodes[(provider, groupOrRole)] = nodes;
        }

        var holders = _holders[provider];
        var candidates = new HashSet<string>(Ids);
        foreach (var node in nodes)
        {
            if (holders.TryGetValue(node, out var direct)) candidates.UnionWith(direct);
        }

        var identities = candidates.Select(id => Find(provider, id)).OfType<Identity>().ToList();
        return _counted[(provider, groupOrRole)] = CriticalSet.From(provider, groupOrRole, EffectivePrivilege.Graph(provider, identities, Base.Groups));
    }

    /// <summary>Forgets the counted sets an account's change can alter: those with a node it held directly before or holds after.</summary>
    private void ForgetCounts(Provider provider, string[] before, string[] after)
    {
        if (_counted.Count == 0) return;
        foreach (var key in _counted.Keys.Where(k => k.Item1 == provider).ToList())
        {
            var nodes = _setNodes[key];
            if (before.Any(nodes.Contains) || after.Any(nodes.Contains)) _counted.Remove(key);
        }
    }

    /// <summary>
    /// Checks an edited entry of an existing account as the snapshot reader checks a file, and works out the account it
    /// describes; nothing in the model changes until <see cref="Commit"/>. Throws when the entry is not valid or names
    /// another account.
    /// </summary>
    public PreparedChange Prepare(JsonObject entry)
    {
        var provider = ProviderOf(entry);
        var id = (string?)entry["id"] ?? throw new InvalidOperationException("the edited entry has no id");
        if (!_position.ContainsKey((provider, id))) throw new InvalidOperationException($"the edited entry names no {provider.Name()} account of the working copy ('{id}')");
        var (identity, graph) = BuildOne(entry);
        var targets = graph.Edges.Where(e => e.Confers && Ids.Equals(e.From, identity.Id)).Select(e => e.To).ToArray();
        return new PreparedChange(entry, identity, targets);
    }

    /// <summary>Replaces an account's entry and every index that depends on it.</summary>
    public void Commit(PreparedChange change)
    {
        var identity = change.Identity;
        var key = (identity.Provider, identity.Id);
        _users[_position[key]] = change.Entry;
        _changed[key] = identity;
        var holders = _holders[identity.Provider];
        ForgetCounts(identity.Provider, _targets.GetValueOrDefault(key, []), change.Targets);
        foreach (var node in _targets.GetValueOrDefault(key, [])) Holders(holders, node).Remove(identity.Id);
        foreach (var node in change.Targets) Holders(holders, node).Add(identity.Id);
        _targets[key] = change.Targets;
        _current = null;
    }

    /// <summary>A journal line: the entry of one account after a change.</summary>
    public static JsonObject ParseEntry(ReadOnlySpan<byte> line) =>
        JsonNode.Parse(line) as JsonObject ?? throw new InvalidOperationException("not a JSON object");

    private Identity Current(Identity found) => _changed.GetValueOrDefault((found.Provider, found.Id)) ?? found;

    /// <summary>One account read through the snapshot reader, with the groups of the working copy: validated and projected alike.</summary>
    private (Identity Identity, PrivilegeGraph Graph) BuildOne(JsonObject entry)
    {
        var bytes = new List<byte>(_groupsJson.Length + 512);
        bytes.AddRange("{\"groups\": "u8.ToArray());
        bytes.AddRange(_groupsJson);
        bytes.AddRange(",\n\"users\": ["u8.ToArray());
        bytes.AddRange(Encoding.UTF8.GetBytes(entry.ToJsonString()));
        bytes.AddRange("]}"u8.ToArray());
        var load = SnapshotReader.Read([.. bytes], _file, _policy);
        if (load.Snapshot is null || load.Snapshot.Users.Length != 1)
        {
            throw new InvalidOperationException("the local connector produced an invalid entry: " + string.Join("; ", load.Diagnostics.Where(d => d.IsError).Select(d => d.Message)));
        }

        var identity = load.Snapshot.Users[0];
        return (identity, load.Snapshot.Graph(identity.Provider));
    }

    private static HashSet<string> Holders(Dictionary<string, HashSet<string>> holders, string node)
    {
        if (!holders.TryGetValue(node, out var set)) holders[node] = set = new HashSet<string>(Ids);
        return set;
    }

    private static Provider ProviderOf(JsonObject entry) =>
        Providers.TryParse((string?)entry["provider"] ?? "", out var provider) ? provider : throw new InvalidOperationException("an entry without a known provider");

    private sealed class KeyComparer : IEqualityComparer<(Provider, string)>
    {
        public static KeyComparer Instance { get; } = new();

        public bool Equals((Provider, string) x, (Provider, string) y) => x.Item1 == y.Item1 && Ids.Equals(x.Item2, y.Item2);

        public int GetHashCode((Provider, string) obj) => HashCode.Combine(obj.Item1, Ids.GetHashCode(obj.Item2));
    }
}

/// <summary>An edited entry, checked, with the account it describes and the groups and roles it holds directly.</summary>
internal sealed record PreparedChange(JsonObject Entry, Identity Identity, string[] Targets);
