using CsCheck;
using ResponseEngine.Identities.Privilege;

namespace ResponseEngine.Core.Tests.Privilege;

public class PrivilegeGraphTests
{
    private static PrivilegePrincipal User(string id, bool enabled = true, bool breakGlass = false) =>
        new(id, PrincipalKind.User, id) { Enabled = enabled, BreakGlass = breakGlass };

    private static PrivilegePrincipal Group(string id, string? name = null) => new(id, PrincipalKind.Group, name ?? id);

    private static PrivilegeEdge Member(string from, string to) => new(from, to, EdgeKind.Member);

    [Fact]
    public void EffectiveHolders_NestingCyclePrimaryGroupAndGroupRole_CountsEveryEnabledPathOnce()
    {
        var graph = PrivilegeGraph.Build(
            [User("alice"), User("bob"), User("carol"), User("dave", enabled: false), User("erin"), Group("g-da", "Domain Admins"),
                Group("g-t0", "Tier0 Operators"), Group("g-loop", "Loop"), Group("g-ga", "GA Holders")],
            [
                Member("alice", "g-da"),
                Member("bob", "g-t0"), Member("g-t0", "g-loop"), Member("g-loop", "g-t0"), Member("g-loop", "g-da"),
                new("carol", "g-da", EdgeKind.PrimaryGroup),
                Member("dave", "g-da"),
                Member("erin", "g-ga"), new("g-ga", "Global Administrator", EdgeKind.Role),
            ]);

        graph.EffectiveHolders("Domain Admins").Should().BeEquivalentTo(["alice", "bob", "carol"], "by name, through a loop, as primary group; dave is disabled");
        graph.EffectiveHolders("g-da").Should().HaveCount(3);
        graph.EffectiveHolders("Global Administrator").Should().BeEquivalentTo(["erin"]);
        graph.AllHolders("g-da").Should().Contain("dave");
        graph.Holds("bob", "Domain Admins").Should().BeTrue();
    }

    [Fact]
    public void EffectiveHolders_EligibleRoleAndBreakGlass_AreNotCountedByDefault()
    {
        var graph = PrivilegeGraph.Build(
            [User("pim"), User("bg", breakGlass: true), User("real")],
            [new("pim", "Global Administrator", EdgeKind.EligibleRole), new("bg", "Global Administrator", EdgeKind.Role), new("real", "Global Administrator", EdgeKind.Role)]);

        graph.EffectiveHolders("Global Administrator").Should().BeEquivalentTo(["real"]);
        graph.EffectiveHolders("Global Administrator", countBreakGlass: true).Should().BeEquivalentTo(["real", "bg"]);
        graph.EligibleHolders("Global Administrator").Should().BeEquivalentTo(["pim"]);
    }

    [Fact]
    public void With_RevokeOfOneDirectGroup_CutsOnlyThePathsThroughIt()
    {
        var graph = PrivilegeGraph.Build(
            [User("alice"), Group("g-da", "Domain Admins"), Group("g-t0", "Tier0 Operators")],
            [Member("alice", "g-da"), Member("alice", "g-t0"), Member("g-t0", "g-da")]);

        var withoutDirect = graph.With([new GraphEdit.RemoveEdge("alice", "Domain Admins", EdgeKind.Member)]);
        withoutDirect.Holds("alice", "g-da").Should().BeTrue("Tier0 Operators still confers Domain Admins");
        withoutDirect.With([new GraphEdit.RemoveEdge("ALICE", "g-t0", EdgeKind.Member)]).Holds("alice", "g-da").Should().BeFalse();
        graph.With([new GraphEdit.Disable("alice")]).EffectiveHolders("g-da").Should().BeEmpty();
        graph.Holds("alice", "g-da").Should().BeTrue("the base graph is unchanged");
    }

    [Fact]
    public void PathsTo_NestedAndPrimary_DescribesTheGroupsBetween()
    {
        var graph = PrivilegeGraph.Build(
            [User("bob"), User("carol"), Group("g-da", "Domain Admins"), Group("g-t0", "Tier0 Operators")],
            [Member("bob", "g-t0"), Member("g-t0", "g-da"), new("carol", "g-da", EdgeKind.PrimaryGroup)]);

        graph.Describe(graph.PathsTo("bob", "Domain Admins").Single()).Should().Be("via Tier0 Operators");
        graph.Describe(graph.PathsTo("carol", "Domain Admins").Single()).Should().Be("as primary group");
    }

    [Fact]
    public void Node_AmbiguousGroupName_ResolvesToNoGroup()
    {
        var graph = PrivilegeGraph.Build([User("u"), Group("1", "Admins"), Group("2", "Admins")], [Member("u", "1")]);

        graph.Node("Admins").Should().Be("Admins", "two groups share the name: it names neither");
        graph.EffectiveHolders("Admins").Should().BeEmpty();
        graph.EffectiveHolders("1").Should().BeEquivalentTo(["u"]);
    }

    [Fact]
    public void EffectiveHolders_GeneratedGraphs_MatchAFixpointOfDirectFacts()
    {
        // Independent oracle: iterate "holds" to a fixpoint over the direct edges, and compare with the graph's walk.
        var gen =
            from users in Gen.Int[0, 5]
            from groups in Gen.Int[1, 6]
            from edges in Gen.Select(Gen.Int[0, users + groups - 1], Gen.Int[0, groups], Gen.Int[0, 3]).Array[0, 24]
            from enabled in Gen.Bool.Array[users]
            select (users, groups, edges, enabled);
        gen.Sample(t =>
        {
            var (users, groups, raw, enabled) = t;
            var principals = Enumerable.Range(0, users).Select(i => User("u" + i, enabled[i]))
                .Concat(Enumerable.Range(0, groups).Select(i => Group("g" + i))).ToList();
            string Name(int i) => i < users ? "u" + i : "g" + (i - users);
            var edges = raw.Select(e => new PrivilegeEdge(Name(e.Item1), e.Item2 == groups ? "Role" : "g" + e.Item2, (EdgeKind)e.Item3)).ToList();
            var graph = PrivilegeGraph.Build(principals, edges);
            foreach (var target in Enumerable.Range(0, groups).Select(i => "g" + i).Append("Role"))
            {
                var holds = new HashSet<string> { target };
                for (var changed = true; changed;)
                {
                    changed = false;
                    foreach (var e in edges.Where(e => e.Kind != EdgeKind.EligibleRole && holds.Contains(e.To))) changed |= holds.Add(e.From);
                }

                var expected = Enumerable.Range(0, users).Where(i => enabled[i] && holds.Contains("u" + i)).Select(i => "u" + i);
                graph.EffectiveHolders(target).Should().BeEquivalentTo(expected);
            }
        }, iter: 500);
    }
}
