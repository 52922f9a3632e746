using CsCheck;
using ResponseEngine.Identities.Privilege;

namespace ResponseEngine.Core.Tests.Privilege;

/// <summary>
/// Lockout protection's shortcuts (#23): the guard skips <see cref="LockoutRule.Evaluate"/> when
/// <see cref="LockoutRule.CannotRemoveHolder"/> says no proposed edit concerns a principal with a path to the set, or
/// <see cref="LockoutRule.KeepsMinimum"/> says the set keeps its minimum whatever the edits take out. Checked
/// against the full rule on generated graphs (nesting with loops, primary groups, group-held and eligible roles, names
/// shared by groups, edges into users, ids in other case), pending edits and proposed edits: whenever the shortcut says so,
/// the full rule allows (with no holder lost, for the first; at the minimum or above, for the second) and gives no reason,
/// so the guard's verdicts and reasons are the rule's.
/// </summary>
public class LockoutShortcutPropertyTests
{
    private static readonly Gen<(PrivilegeGraph Graph, string Set, GraphEdit[] Pending, GraphEdit[] Proposed, int Minimum, bool BreakGlass)> Cases =
        from users in Gen.Int[1, 6]
        from groups in Gen.Int[1, 6]
        from enabled in Gen.Bool.Array[users]
        from breakGlass in Gen.Int[0, 5].Array[users]
        from sharedName in Gen.Bool
        from edges in Gen.Select(Gen.Int[0, users + groups - 1], Gen.Int[0, users + groups + 1], Gen.Int[0, 3]).Array[0, 28]
        from pending in Edit(users, groups).Array[0, 6]
        from proposed in Edit(users, groups).Array[1, 3]
        from set in Gen.Int[0, groups + 1]
        from byName in Gen.Bool
        from minimum in Gen.Int[0, 4]
        from countBreakGlass in Gen.Bool
        select Build(users, groups, enabled, breakGlass, sharedName, edges, pending, proposed, set, byName, minimum, countBreakGlass);

    private static Gen<(int Kind, int From, int To, int EdgeKind, bool Upper)> Edit(int users, int groups) =>
        Gen.Select(Gen.Int[0, 1], Gen.Int[0, users + groups - 1], Gen.Int[0, users + groups + 1], Gen.Int[0, 3], Gen.Bool);

    private static string Node(int i, int users, int groups) =>
        i < users ? "u" + i : i < users + groups ? "g" + (i - users) : i == users + groups ? "Role A" : "Role B";

    private static (PrivilegeGraph, string, GraphEdit[], GraphEdit[], int, bool) Build(int users, int groups, bool[] enabled, int[] breakGlass,
        bool sharedName, (int, int, int)[] edges, (int, int, int, int, bool)[] pending, (int, int, int, int, bool)[] proposed, int set, bool byName,
        int minimum, bool countBreakGlass)
    {
        string Name(int group) => sharedName && group < 2 ? "Admins" : "Group " + group;
        var principals = Enumerable.Range(0, users)
            .Select(i => new PrivilegePrincipal("u" + i, PrincipalKind.User, "user " + i) { Enabled = enabled[i], BreakGlass = breakGlass[i] == 0 })
            .Concat(Enumerable.Range(0, groups).Select(i => new PrivilegePrincipal("g" + i, PrincipalKind.Group, Name(i))))
            .ToList();
        var graph = PrivilegeGraph.Build(principals, edges.Select(e => new PrivilegeEdge(Node(e.Item1, users, groups), Node(e.Item2, users, groups), (EdgeKind)e.Item3)));
        GraphEdit Edit((int Kind, int From, int To, int EdgeKind, bool Upper) e)
        {
            var from = Node(e.From, users, groups);
            if (e.Upper) from = from.ToUpperInvariant();
            var to = Node(e.To, users, groups);
            if (e.Upper && e.To >= users && e.To < users + groups) to = Name(e.To - users);
            return e.Kind == 0 ? new GraphEdit.Disable(from) : new GraphEdit.RemoveEdge(from, to, (EdgeKind)e.EdgeKind);
        }

        var setText = set < groups ? byName ? Name(set) : "g" + set : set == groups ? "Role A" : "Role B";
        return (graph, setText, [.. pending.Select(Edit)], [.. proposed.Select(Edit)], minimum, countBreakGlass);
    }

    [Fact]
    public void CannotRemoveHolder_GeneratedGraphsAndEdits_TheFullRuleAllowsWithNothingLost()
    {
        var shortcuts = 0;
        var refusals = 0;
        Cases.Sample(c =>
        {
            var full = LockoutRule.Evaluate(c.Graph, c.Set, c.Pending, c.Proposed, c.Minimum, c.BreakGlass);
            if (!full.Allowed) Interlocked.Increment(ref refusals);
            if (!LockoutRule.CannotRemoveHolder(c.Graph, c.Set, c.Proposed)) return;
            Interlocked.Increment(ref shortcuts);
            full.Allowed.Should().BeTrue();
            full.Lost.Should().BeEmpty();
            full.Reason.Should().BeNull();
            full.HoldersAfter.Should().Be(full.HoldersBefore);
        }, iter: 20_000);

        shortcuts.Should().BePositive("the generator reaches the shortcut");
        refusals.Should().BePositive("the generator reaches refusals");
    }

    [Fact]
    public void KeepsMinimum_GeneratedGraphsAndEdits_TheFullRuleAllows()
    {
        var shortcuts = 0;
        var withLoss = 0;
        Cases.Sample(c =>
        {
            if (!LockoutRule.KeepsMinimum(c.Graph, c.Set, c.Pending, c.Proposed, c.Minimum, c.BreakGlass)) return;
            Interlocked.Increment(ref shortcuts);
            var full = LockoutRule.Evaluate(c.Graph, c.Set, c.Pending, c.Proposed, c.Minimum, c.BreakGlass);
            if (!full.Lost.IsEmpty) Interlocked.Increment(ref withLoss);
            full.Allowed.Should().BeTrue();
            full.Reason.Should().BeNull();
            full.HoldersAfter.Should().BeGreaterThanOrEqualTo(c.Minimum);
        }, iter: 20_000);

        shortcuts.Should().BePositive("the generator reaches the shortcut");
        withLoss.Should().BePositive("the shortcut also allows actions that take a holder out of a set that keeps its minimum");
    }

    [Fact]
    public void KeepsMinimum_ManyHoldersThroughATierGroup_AllowsWithoutWalkingAndRefusesNearTheMinimum()
    {
        PrivilegePrincipal[] users = [.. Enumerable.Range(0, 10).Select(i => new PrivilegePrincipal("u" + i, PrincipalKind.User, "user " + i))];
        var graph = PrivilegeGraph.Build(
            [.. users, new("g-t0", PrincipalKind.Group, "Tier0"), new("g-da", PrincipalKind.Group, "Domain Admins")],
            [.. users.Select(u => new PrivilegeEdge(u.Id, "g-t0", EdgeKind.Member)), new("g-t0", "g-da", EdgeKind.Member)]);
        GraphEdit[] pending = [.. Enumerable.Range(1, 6).Select(i => new GraphEdit.Disable("u" + i))];

        LockoutRule.KeepsMinimum(graph, "Domain Admins", pending, [new GraphEdit.Disable("u0")], minimum: 2).Should().BeTrue("10 - 7 >= 2");
        LockoutRule.KeepsMinimum(graph, "Domain Admins", pending, [new GraphEdit.Disable("u0")], minimum: 4).Should().BeFalse("10 - 7 < 4: the rule decides");
        LockoutRule.KeepsMinimum(graph, "Domain Admins", [], [new GraphEdit.RemoveEdge("g-t0", "g-da", EdgeKind.Member)], minimum: 2)
            .Should().BeFalse("cutting the tier group's edge can take out everyone reaching it");
        LockoutRule.Evaluate(graph, "Domain Admins", [], [new GraphEdit.RemoveEdge("g-t0", "g-da", EdgeKind.Member)], minimum: 2).Allowed.Should().BeFalse();
    }

    [Fact]
    public void CannotRemoveHolder_AHolderOrAGroupOnItsPath_IsNeverShortcut()
    {
        var graph = PrivilegeGraph.Build(
            [new("alice", PrincipalKind.User, "alice"), new("bob", PrincipalKind.User, "bob"), new("g-t0", PrincipalKind.Group, "Tier0"),
                new("g-da", PrincipalKind.Group, "Domain Admins")],
            [new("alice", "g-t0", EdgeKind.Member), new("g-t0", "g-da", EdgeKind.Member), new("bob", "g-da", EdgeKind.EligibleRole)]);

        LockoutRule.CannotRemoveHolder(graph, "Domain Admins", [new GraphEdit.Disable("ALICE")]).Should().BeFalse();
        LockoutRule.CannotRemoveHolder(graph, "g-da", [new GraphEdit.RemoveEdge("alice", "Tier0", EdgeKind.Member)]).Should().BeFalse();
        LockoutRule.CannotRemoveHolder(graph, "Domain Admins", [new GraphEdit.Disable("bob")]).Should().BeTrue("an eligible edge confers nothing");
        LockoutRule.CannotRemoveHolder(graph, "Domain Admins", [new GraphEdit.Disable("bob"), new GraphEdit.Disable("alice")]).Should().BeFalse();
    }
}
