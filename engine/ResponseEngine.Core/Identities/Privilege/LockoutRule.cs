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

    private static bool Cut(PrivilegePath path, PrivilegeGraph after) =>
        path.Edges.Any(e => !after.Contains(e)) || after.Principal(path.Edges[0].From) is { Enabled: false };
}
