using System.Collections.Concurrent;
using System.Collections.Frozen;
using System.Collections.Immutable;

namespace ResponseEngine.Identities.Privilege;

/// <summary>What a node of the privilege graph is; roles are not principals, they are the names edges point to.</summary>
public enum PrincipalKind
{
    User,
    Group,
}

/// <summary>How one principal holds a group or a role; the kind says what can cut it.</summary>
public enum EdgeKind
{
    /// <summary>From is a direct member of group To: revoke_group of To cuts it when From is the user.</summary>
    Member,

    /// <summary>AD primaryGroupID: From holds group To; revoke_group cannot cut it (AD refuses).</summary>
    PrimaryGroup,

    /// <summary>From (a user or a group) holds role To actively; remove_role_assignment cuts it only when From is the user.</summary>
    Role,

    /// <summary>PIM eligible: reported, never counted as holding.</summary>
    EligibleRole,
}

/// <summary>A user or group by its directory's stable id, so lockout counts never depend on display names.</summary>
public sealed record PrivilegePrincipal(string Id, PrincipalKind Kind, string Name)
{
    /// <summary>Users: can sign in (AD !ACCOUNTDISABLE, Entra accountEnabled, Okta status); groups: true.</summary>
    public bool Enabled { get; init; } = true;

    /// <summary>Tagged break_glass: by default not counted toward a critical set's minimum.</summary>
    public bool BreakGlass { get; init; }
}

/// <summary>
/// From holds To: To is a group id (Member, PrimaryGroup) or a role name exactly as the critical set names it
/// (Role, EligibleRole). Connectors report direct facts only; the graph computes the closure.
/// </summary>
public sealed record PrivilegeEdge(string From, string To, EdgeKind Kind)
{
    /// <summary>Whether the edge confers what it points to (eligible roles do not).</summary>
    public bool Confers => Kind != EdgeKind.EligibleRole;
}

/// <summary>One way a user holds a critical set: the edges from the user to the set, in order.</summary>
public sealed record PrivilegePath(ImmutableArray<PrivilegeEdge> Edges);

/// <summary>
/// Who holds what, directly or through nesting, primary groups and group-held roles: the one model of effective
/// privilege that the privileged flag, lockout protection and every connector's count share. Immutable; cycles are
/// allowed (AD nesting can loop); every walk keeps a visited set. Ids and role names compare without case.
/// </summary>
public sealed class PrivilegeGraph
{
    private static readonly StringComparer Ids = StringComparer.OrdinalIgnoreCase;
    private readonly FrozenDictionary<string, PrivilegePrincipal> _principals;
    private readonly FrozenDictionary<string, ImmutableArray<PrivilegeEdge>> _into;
    private readonly FrozenDictionary<string, ImmutableArray<PrivilegeEdge>> _outOf;
    private readonly FrozenDictionary<string, string> _groupByName;

    // After edits (With): users disabled and edges cut, over the base graph's indexes, which are shared, not rebuilt. Lockout
    // protection asks for the graph after every pending edit once per destructive decision; rebuilding the whole graph each
    // time made a plan of 1,000 findings over 10,000 users cost a minute of CPU.
    private readonly HashSet<string> _disabled;
    private readonly HashSet<PrivilegeEdge> _cut;
    private readonly IReadOnlyCollection<PrivilegePrincipal> _basePrincipals;
    private readonly IReadOnlyCollection<PrivilegeEdge> _baseEdges;
    private IReadOnlyCollection<PrivilegePrincipal>? _principalsAfter;
    private IReadOnlyCollection<PrivilegeEdge>? _edgesAfter;

    // Every node with a path to a node, by node, computed on first use and kept (the graph never changes): lockout
    // protection asks, per destructive decision and critical set, whether the target has a path to the set at all.
    private readonly ConcurrentDictionary<string, HashSet<string>> _reaching = new(Ids);
    private readonly ConcurrentDictionary<(string Node, bool BreakGlass), int> _holderCounts = new();

    private PrivilegeGraph(IEnumerable<PrivilegePrincipal> principals, IEnumerable<PrivilegeEdge> edges)
    {
        var byId = new Dictionary<string, PrivilegePrincipal>(Ids);
        foreach (var principal in principals) byId[principal.Id] = principal;
        _principals = byId.ToFrozenDictionary(Ids);
        _disabled = new HashSet<string>(Ids);
        _cut = new HashSet<PrivilegeEdge>(EdgeComparer.Instance);
        _basePrincipals = [.. byId.Values];
        PrivilegeEdge[] distinct = [.. edges.Distinct(EdgeComparer.Instance)];
        _baseEdges = distinct;
        _into = distinct.GroupBy(e => e.To, Ids).ToFrozenDictionary(g => g.Key, g => g.ToImmutableArray(), Ids);
        _outOf = distinct.GroupBy(e => e.From, Ids).ToFrozenDictionary(g => g.Key, g => g.ToImmutableArray(), Ids);

        // A name that several groups share is ambiguous and resolves to none of them (Entra display names are not unique).
        _groupByName = _basePrincipals.Where(p => p.Kind == PrincipalKind.Group).GroupBy(p => p.Name, Ids)
            .Where(g => g.Count() == 1).ToFrozenDictionary(g => g.Key, g => g.Single().Id, Ids);
    }

    private PrivilegeGraph(PrivilegeGraph basis, HashSet<string> disabled, HashSet<PrivilegeEdge> cut)
    {
        _principals = basis._principals;
        _into = basis._into;
        _outOf = basis._outOf;
        _groupByName = basis._groupByName;
        _basePrincipals = basis._basePrincipals;
        _baseEdges = basis._baseEdges;
        _disabled = disabled;
        _cut = cut;
    }

    /// <summary>An empty graph: nobody holds anything.</summary>
    public static PrivilegeGraph Empty { get; } = new([], []);

    public static PrivilegeGraph Build(IEnumerable<PrivilegePrincipal> principals, IEnumerable<PrivilegeEdge> edges)
    {
        ArgumentNullException.ThrowIfNull(principals);
        ArgumentNullException.ThrowIfNull(edges);
        return new PrivilegeGraph(principals, edges);
    }

    public IReadOnlyCollection<PrivilegePrincipal> Principals => _disabled.Count == 0 ? _basePrincipals
        : _principalsAfter ??= [.. _basePrincipals.Select(p => _disabled.Contains(p.Id) ? p with { Enabled = false } : p)];

    public IReadOnlyCollection<PrivilegeEdge> Edges => _cut.Count == 0 ? _baseEdges : _edgesAfter ??= [.. _baseEdges.Where(e => !_cut.Contains(e))];

    public PrivilegePrincipal? Principal(string id) => Find(id, out var p) ? p : null;

    /// <summary>Whether the graph has the edge (not cut by an edit).</summary>
    public bool Contains(PrivilegeEdge edge)
    {
        ArgumentNullException.ThrowIfNull(edge);
        return !_cut.Contains(edge) && _outOf.GetValueOrDefault(edge.From, []).Contains(edge, EdgeComparer.Instance);
    }

    /// <summary>The principal as it is after the edits (a disabled user is not enabled).</summary>
    private bool Find(string id, [System.Diagnostics.CodeAnalysis.NotNullWhen(true)] out PrivilegePrincipal? principal)
    {
        if (!_principals.TryGetValue(id, out principal)) return false;
        if (principal.Enabled && _disabled.Contains(principal.Id)) principal = principal with { Enabled = false };
        return true;
    }

    /// <summary>
    /// The node a group or role is in the graph: a principal's id as given, a group's id for its (unique) name,
    /// otherwise the text itself (a role name).
    /// </summary>
    public string Node(string groupOrRole)
    {
        ArgumentNullException.ThrowIfNull(groupOrRole);
        if (_principals.TryGetValue(groupOrRole, out var principal)) return principal.Id;
        return _groupByName.GetValueOrDefault(groupOrRole) ?? groupOrRole;
    }

    /// <summary>The display name of a node: a principal's name, or the node itself (a role).</summary>
    public string NameOf(string node) => _principals.TryGetValue(node, out var principal) ? principal.Name : node;

    /// <summary>Enabled users with a path of Member, PrimaryGroup or Role edges to the set node (a group id or name, or a role name).</summary>
    public IReadOnlySet<string> EffectiveHolders(string setNode, bool countBreakGlass = false)
    {
        var holders = new HashSet<string>(Ids);
        foreach (var id in Reaching(Node(setNode)))
        {
            if (Find(id, out var p) && p.Kind == PrincipalKind.User && p.Enabled && (countBreakGlass || !p.BreakGlass))
            {
                holders.Add(p.Id);
            }
        }

        return holders;
    }

    /// <summary>Users, enabled or not, with a path to the set node whatever their tags: every account that holds it.</summary>
    public IReadOnlySet<string> AllHolders(string setNode) =>
        Reaching(Node(setNode)).Where(id => _principals.TryGetValue(id, out var p) && p.Kind == PrincipalKind.User)
            .Select(id => _principals[id].Id).ToHashSet(Ids);

    /// <summary>Users eligible (PIM) for the role, directly or through a group, who do not hold it: reported, never counted.</summary>
    public IReadOnlySet<string> EligibleHolders(string role)
    {
        var holding = AllHolders(role);
        var eligible = new HashSet<string>(Ids);
        foreach (var edge in _into.GetValueOrDefault(role, []).Where(e => e.Kind == EdgeKind.EligibleRole && !_cut.Contains(e)))
        {
            foreach (var id in Reaching(edge.From).Append(edge.From))
            {
                if (_principals.TryGetValue(id, out var p) && p.Kind == PrincipalKind.User && !holding.Contains(p.Id)) eligible.Add(p.Id);
            }
        }

        return eligible;
    }

    /// <summary>
    /// Whether the principal (a user or a group) has a conferring path, not cut, to the group or role: whether an edit of
    /// it can change who holds the set. Unlike <see cref="Holds"/>, the set's own node has no path to itself. The nodes
    /// with a path to each set are computed once per graph and kept.
    /// </summary>
    public bool Reaches(string principalId, string groupOrRole)
    {
        ArgumentNullException.ThrowIfNull(principalId);
        ArgumentNullException.ThrowIfNull(groupOrRole);
        return _reaching.GetOrAdd(Node(groupOrRole), Reaching).Contains(principalId);
    }

    /// <summary>
    /// How many nodes (users or groups, enabled or not) have a conferring path, not cut, to the principal: at most how many
    /// holders an edit of the principal can take out of any set besides itself. Computed once per node and kept.
    /// </summary>
    public int ReachingCount(string principalId)
    {
        ArgumentNullException.ThrowIfNull(principalId);
        return _reaching.GetOrAdd(principalId, Reaching).Count;
    }

    /// <summary>The number of <see cref="EffectiveHolders"/> of the set, counted once per graph and kept.</summary>
    public int EffectiveHolderCount(string setNode, bool countBreakGlass = false)
    {
        ArgumentNullException.ThrowIfNull(setNode);
        return _holderCounts.GetOrAdd((Node(setNode), countBreakGlass), key => EffectiveHolders(key.Node, key.BreakGlass).Count);
    }

    /// <summary>Whether the principal holds the group or role through any conferring path (its own enabled state aside).</summary>
    public bool Holds(string principalId, string groupOrRole) => Reachable(principalId).Contains(Node(groupOrRole));

    /// <summary>Every group and role the principal holds through conferring paths (ids of groups, names of roles).</summary>
    public IReadOnlySet<string> Reachable(string principalId) => Walk(principalId, _outOf, e => e.To);

    /// <summary>
    /// The ways the principal holds the set, shortest first, at most <paramref name="max"/>: what a refusal names
    /// ("via Tier0 Operators → Domain Admins").
    /// </summary>
    public ImmutableArray<PrivilegePath> PathsTo(string principalId, string setNode, int max = 8)
    {
        var target = Node(setNode);
        var found = ImmutableArray.CreateBuilder<PrivilegePath>();
        var queue = new Queue<ImmutableArray<PrivilegeEdge>>();
        queue.Enqueue([]);
        while (queue.Count > 0 && found.Count < max)
        {
            var path = queue.Dequeue();
            var at = path.IsEmpty ? principalId : path[^1].To;
            foreach (var edge in _outOf.GetValueOrDefault(at, []))
            {
                // Simple paths only: a loop in the nesting never returns to a node already on the path.
                if (!edge.Confers || _cut.Contains(edge) || Ids.Equals(edge.To, principalId) || path.Any(e => Ids.Equals(e.To, edge.To))) continue;
                var longer = path.Add(edge);
                if (Ids.Equals(edge.To, target)) found.Add(new PrivilegePath(longer));
                else if (longer.Length < 32) queue.Enqueue(longer);
                if (found.Count >= max) break;
            }
        }

        return found.ToImmutable();
    }

    /// <summary>A path in words: "directly" or "via Tier0 Operators" (the groups between the user and the set).</summary>
    public string Describe(PrivilegePath path)
    {
        ArgumentNullException.ThrowIfNull(path);
        var via = path.Edges.Take(path.Edges.Length - 1).Select(e => NameOf(e.To)).ToList();
        var last = path.Edges[^1].Kind;
        var how = last == EdgeKind.PrimaryGroup && via.Count == 0 ? "as primary group" : via.Count == 0 ? "directly" : "via " + string.Join(" → ", via);
        if (via.Count > 0 && path.Edges[0].Kind == EdgeKind.PrimaryGroup) how += " (primary group)";
        return how;
    }

    /// <summary>
    /// The graph after the edits: users taken out and edges removed; the base is unchanged. The result shares the base's
    /// indexes and holds only the edits, so its cost is the edits', not the graph's.
    /// </summary>
    public PrivilegeGraph With(IEnumerable<GraphEdit> edits)
    {
        ArgumentNullException.ThrowIfNull(edits);
        var list = edits.ToList();
        if (list.Count == 0) return this;
        var disabled = new HashSet<string>(_disabled, Ids);
        var cut = new HashSet<PrivilegeEdge>(_cut, EdgeComparer.Instance);
        foreach (var edit in list)
        {
            switch (edit)
            {
                case GraphEdit.Disable d:
                    disabled.Add(d.UserId);
                    break;
                case GraphEdit.RemoveEdge r:
                    // The edge from the user of that kind to the node named, by id or by a group's name.
                    var node = Node(r.To);
                    foreach (var edge in _outOf.GetValueOrDefault(r.From, []))
                    {
                        if (edge.Kind == r.Kind && (Ids.Equals(r.To, edge.To) || Ids.Equals(node, edge.To))) cut.Add(edge);
                    }

                    break;
            }
        }

        return new PrivilegeGraph(this, disabled, cut);
    }

    /// <summary>Every node with a conferring path to the node (reverse walk).</summary>
    private HashSet<string> Reaching(string node)
    {
        var seen = Walk(node, _into, e => e.From);
        seen.Remove(node);
        return seen;
    }

    /// <summary>Breadth-first over conferring edges, with a visited set so that loops in the nesting end.</summary>
    private HashSet<string> Walk(string start, FrozenDictionary<string, ImmutableArray<PrivilegeEdge>> edges, Func<PrivilegeEdge, string> next)
    {
        var seen = new HashSet<string>(Ids);
        var queue = new Queue<string>([start]);
        while (queue.Count > 0)
        {
            foreach (var edge in edges.GetValueOrDefault(queue.Dequeue(), []))
            {
                if (edge.Confers && !_cut.Contains(edge) && seen.Add(next(edge))) queue.Enqueue(next(edge));
            }
        }

        return seen;
    }

    private sealed class EdgeComparer : IEqualityComparer<PrivilegeEdge>
    {
        public static EdgeComparer Instance { get; } = new();

        public bool Equals(PrivilegeEdge? x, PrivilegeEdge? y) =>
            x is not null && y is not null && x.Kind == y.Kind && Ids.Equals(x.From, y.From) && Ids.Equals(x.To, y.To);

        public int GetHashCode(PrivilegeEdge obj) => HashCode.Combine(obj.Kind, Ids.GetHashCode(obj.From), Ids.GetHashCode(obj.To));
    }
}

/// <summary>What an action does to the privilege graph, declared by the action (not guessed from its name by a guard).</summary>
public abstract record GraphEdit
{
    private GraphEdit()
    {
    }

    /// <summary>The user can no longer use what it holds: disable_user, deactivate_user, reset_password.</summary>
    public sealed record Disable(string UserId) : GraphEdit;

    /// <summary>
    /// One direct edge cut: revoke_group (Member edge from the user to the group) or remove_role_assignment (Role edge
    /// from the user to the role). To is matched by id, or by a group's name.
    /// </summary>
    public sealed record RemoveEdge(string From, string To, EdgeKind Kind) : GraphEdit;
}
