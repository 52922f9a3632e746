using System.Collections.Immutable;

namespace ResponseEngine.Identities.Privilege;

/// <summary>The answer of <see cref="LockoutRule"/>: whether the action may go, with the counts and the path it would cut.</summary>
public sealed record LockoutVerdict(bool Allowed, int HoldersBefore, int HoldersAfter, ImmutableArray<string> Lost, string? Reason);

/// <summary>
/// The one lockout rule, pure, for the run's guard and the plan's alike: an action is refused when, on the graph after
/// every pending edit, it reduces the enabled effective holders of a critical set below the minimum. An action that
/// leaves every holder another path (a direct member also in a nested group) removes nobody and passes.
/// </summary>
public static class LockoutRule
{
    public static LockoutVerdict Evaluate(PrivilegeGraph graph, string set, IEnumerable<GraphEdit> pending, IEnumerable<GraphEdit> proposed,
        int minimum, bool countBreakGlass = false)
    {
        ArgumentNullException.ThrowIfNull(graph);
        ArgumentNullException.ThrowIfNull(proposed);
        var before = graph.With(pending ?? []);
        var after = before.With(proposed);
        var holdersBefore = before.EffectiveHolders(set, countBreakGlass);
        var holdersAfter = after.EffectiveHolders(set, countBreakGlass);
        var lost = holdersBefore.Where(id => !holdersAfter.Contains(id)).Order(StringComparer.OrdinalIgnoreCase).ToImmutableArray();
        if (lost.IsEmpty || holdersAfter.Count >= minimum)
        {
            return new LockoutVerdict(true, holdersBefore.Count, holdersAfter.Count, lost, null);
        }

        var who = lost[0];
        var setName = before.NameOf(before.Node(set));
        var path = before.PathsTo(who, set).FirstOrDefault(p => Cut(p, after)) ?? before.PathsTo(who, set).FirstOrDefault();
        var how = path is null ? "" : " " + before.Describe(path);
        var left = holdersAfter.Count;
        var breakGlass = countBreakGlass ? 0 : after.EffectiveHolders(set, countBreakGlass: true).Count - left;
        var reason = $"'{before.NameOf(who)}' holds {setName}{how}; would leave {left} enabled holder{(left == 1 ? "" : "s")}, minimum {minimum}"
            + (breakGlass > 0 ? $" (break-glass accounts not counted: {breakGlass})" : "");
        return new LockoutVerdict(false, holdersBefore.Count, left, lost, reason);
    }

    /// <summary>
    /// True when no proposed edit concerns a principal with a path to the set on <paramref name="graph"/>: then
    /// <see cref="Evaluate"/> allows, with no holder lost, whatever edits are pending. Edits only take away (a disabled
    /// user, a cut edge out of its subject), pending edits only take away more, and a path to the set through an edge out of
    /// the subject would be a path of the subject to the set: nobody's paths change, and the subject is no holder. What
    /// lockout protection asks first, so that an action on an account that holds no critical set costs a lookup, not two
    /// walks of the set's holders after every pending edit.
    /// </summary>
    public static bool CannotRemoveHolder(PrivilegeGraph graph, string set, IEnumerable<GraphEdit> proposed)
    {
        ArgumentNullException.ThrowIfNull(graph);
        ArgumentNullException.ThrowIfNull(set);
        ArgumentNullException.ThrowIfNull(proposed);
        foreach (var edit in proposed)
        {
            if (Subject(edit) is not { } subject || graph.Reaches(subject, set)) return false;
        }

        return true;
    }

    /// <summary>
    /// True when, whatever the edits do, the set keeps at least <paramref name="minimum"/> holders: then
    /// <see cref="Evaluate"/> allows. A holder of the set on <paramref name="graph"/> stops holding it only when an edit
    /// disables it or cuts an edge out of a subject on its path, so every holder lost is an edit's subject with a path to
    /// the set or a node with a path to that subject: the holders on the graph, less one plus the nodes reaching each such
    /// subject (counted once per node and graph), is a floor of the holders after the edits. A large set (hundreds of
    /// Domain Admins through a tier group) then costs lookups per edit, not walks of all its holders.
    /// </summary>
    public static bool KeepsMinimum(PrivilegeGraph graph, string set, IEnumerable<GraphEdit> pending, IEnumerable<GraphEdit> proposed,
        int minimum, bool countBreakGlass = false)
    {
        ArgumentNullException.ThrowIfNull(graph);
        ArgumentNullException.ThrowIfNull(set);
        ArgumentNullException.ThrowIfNull(proposed);
        var floor = graph.EffectiveHolderCount(set, countBreakGlass);
        if (floor < minimum) return false;
        foreach (var edit in (pending ?? []).Concat(proposed))
        {
            if (Subject(edit) is not { } subject) return false;
            if (!graph.Reaches(subject, set)) continue;
            floor -= 1 + graph.ReachingCount(subject);
            if (floor < minimum) return false;
        }

        return true;
    }

    private static string? Subject(GraphEdit edit) => edit switch
    {
        GraphEdit.Disable d => d.UserId,
        GraphEdit.RemoveEdge r => r.From,
        _ => null,
    };

    private static bool Cut(PrivilegePath path, PrivilegeGraph after) =>
        path.Edges.Any(e => !after.Contains(e)) || after.Principal(path.Edges[0].From) is { Enabled: false };
}
