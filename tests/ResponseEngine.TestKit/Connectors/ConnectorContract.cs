using System.Collections.Immutable;
using System.Text.Json;
using FluentAssertions;
using ResponseEngine.Actions;
using ResponseEngine.Execution;
using ResponseEngine.Findings;
using ResponseEngine.Identities;
using ResponseEngine.Identities.Privilege;
using Xunit;

namespace ResponseEngine.TestKit.Connectors;

/// <summary>
/// What every connector does, whatever directory it talks to: each catalogue action the provider supports takes effect,
/// verifies, reads as already done afterwards (so a second run is a no-op), and is undone from its recorded prior state
/// when it is reversible; actions the provider does not support, and accounts that do not exist, fail closed; lookups
/// resolve by id, name and UPN and refuse to guess; critical sets count enabled holders only, through nesting.
/// A connector's tests inherit this class once per provider and supply a harness seeded with <see cref="Seed"/>.
/// </summary>
public abstract class ConnectorContract
{
    public const string TopGroup = "Top Admins";
    public const string CriticalGroup = "Critical Admins";
    public const string NestedGroup = "Nested Admins";
    public const string TeamGroup = "Team";

    /// <summary>Every action of the catalogue: supported ones must work, the others must be refused.</summary>
    public static TheoryData<string> Actions { get; } = new(ActionCatalogue.Default.Names);

    protected abstract Provider Provider { get; }

    /// <summary>A role the seed gives alice, bob and (disabled) carol; null for providers without directory roles.</summary>
    protected virtual string? CriticalRole => Provider switch
    {
        Provider.Entra => "Global Administrator",
        Provider.Okta => "SUPER_ADMIN",
        _ => null,
    };

    protected static CancellationToken Cancel => TestContext.Current.CancellationToken;

    /// <summary>Starts the connector over a directory holding exactly <paramref name="directory"/>.</summary>
    protected abstract Task<ConnectorHarness> StartAsync(ContractDirectory directory, CancellationToken cancellationToken);

    /// <summary>
    /// alice (enabled; direct member of Critical Admins and Team, Critical Admins nested in Top Admins; holds the critical
    /// role), bob (enabled; in Nested Admins, which is nested in Critical Admins; holds the role), carol (disabled or
    /// SUSPENDED; in Critical Admins; holds the role), dave (no groups), erin and frank (sharing one e-mail address).
    /// </summary>
    protected virtual ContractDirectory Seed()
    {
        var okta = Provider == Provider.Okta ? "OKTA_GROUP" : null;
        Group Group(string name, params string[] memberOf) => new(Provider, "g-" + name.Replace(' ', '-').ToLowerInvariant(), name)
        {
            MemberOf = [.. memberOf],
            OktaType = okta,
        };

        UserEntry User(string name, string[] groups, bool enabled = true, bool role = false, string? email = null) => new(Provider, "u-" + name, name)
        {
            Upn = $"{name}@corp.example.com",
            Email = email ?? $"{name}.mail@corp.example.com",
            DisplayName = char.ToUpperInvariant(name[0]) + name[1..],
            Enabled = enabled,
            OktaStatus = Provider == Provider.Okta ? (enabled ? OktaStatuses.Active : OktaStatuses.Suspended) : null,
            Groups = groups,
            Roles = role && CriticalRole is not null ? Provider == Provider.Entra ? [CriticalRole, "User Administrator"] : [CriticalRole] : [],
        };

        return new ContractDirectory(
            Provider,
            [Group(TopGroup), Group(CriticalGroup, TopGroup), Group(NestedGroup, CriticalGroup), Group(TeamGroup)],
            [
                User("alice", [CriticalGroup, TeamGroup], role: true),
                User("bob", [NestedGroup], role: true),
                User("carol", [CriticalGroup], enabled: false, role: true),
                User("dave", []),
                User("erin", [TeamGroup], email: "shared@corp.example.com"),
                User("frank", [TeamGroup], email: "shared@corp.example.com"),
            ]);
    }

    /// <summary>The account each action is tried on: one that is not yet in the state the action wants.</summary>
    protected virtual string TargetFor(ActionDefinition action) => action.Name == "enable_user" ? "carol" : "alice";

    /// <summary>Parameters that exercise the action: revoke_group lists a direct and a merely transitive group.</summary>
    protected virtual ActionParameters ParametersFor(ActionDefinition action)
    {
        ArgumentNullException.ThrowIfNull(action);
        return action.Name switch
        {
            "revoke_group" => ActionParameters.Empty.With("groups", ImmutableArray.Create(CriticalGroup, TopGroup)),
            "remove_role_assignment" => ActionParameters.Empty.With("roles", ImmutableArray.Create(CriticalRole ?? "Global Administrator", "Directory Readers")),
            _ => ActionParameters.Empty,
        };
    }

    /// <summary>What restoring must bring back; override only where a directory cannot restore a field exactly.</summary>
    protected virtual ObservedState Observe(Identity identity) => ObservedState.Of(identity);

    [Theory]
    [MemberData(nameof(Actions))]
    public async Task Apply_EachAction_TakesEffectVerifiesAndThenReadsAsAlreadyDone(string actionName)
    {
        await using var harness = await StartAsync(Seed(), Cancel);
        var (request, action) = await RequestAsync(harness, actionName);
        var original = await ObserveAsync(harness, request.Target.Id);
        if (!action.Supports(Provider))
        {
            await harness.Invoking(h => h.Connector.ApplyAsync(request, Cancel)).Should().ThrowAsync<ConnectorException>(
                $"{actionName} is not a {Provider.Name()} action");
            (await ObserveAsync(harness, request.Target.Id)).Describe().Should().Be(original.Describe());
            return;
        }

        var before = await harness.Connector.ReadAsync(request, Cancel);
        before.AlreadyDone.Should().BeFalse($"the seed puts {request.Target.Name} in a state {actionName} changes");
        ParseObject(before.PriorState);
        (await harness.Connector.VerifyAsync(request, Cancel)).Should().BeFalse("nothing has been applied yet");

        await harness.Connector.ApplyAsync(request, Cancel);

        (await harness.Connector.VerifyAsync(request, Cancel)).Should().BeTrue($"{actionName} was applied");
        var after = await harness.Connector.ReadAsync(request, Cancel);
        after.AlreadyDone.Should().BeTrue("a second run must find nothing to do and record a no-op");
        (await ObserveAsync(harness, request.Target.Id)).Describe().Should().NotBe(original.Describe(), $"{actionName} changes the account");
    }

    [Theory]
    [MemberData(nameof(Actions))]
    public async Task Restore_EachAction_PutsTheRecordedPriorStateBackOrRefuses(string actionName)
    {
        await using var harness = await StartAsync(Seed(), Cancel);
        var (request, action) = await RequestAsync(harness, actionName);
        var original = await ObserveAsync(harness, request.Target.Id);
        if (!action.Supports(Provider))
        {
            await harness.Invoking(h => h.Connector.RestoreAsync(request, "{}", Cancel)).Should().ThrowAsync<ConnectorException>();
            return;
        }

        var prior = (await harness.Connector.ReadAsync(request, Cancel)).PriorState;
        await harness.Connector.ApplyAsync(request, Cancel);
        if (!action.Reversal.Reversible)
        {
            await harness.Invoking(h => h.Connector.RestoreAsync(request, prior, Cancel)).Should().ThrowAsync<ConnectorException>(
                $"{actionName} is irreversible: {action.Reversal.How}");
            return;
        }

        await harness.Connector.RestoreAsync(request, prior, Cancel);

        (await ObserveAsync(harness, request.Target.Id)).Describe().Should().Be(original.Describe());
        (await harness.Connector.ReadAsync(request, Cancel)).AlreadyDone.Should().BeFalse("undo took the account out of the action's state");
        await harness.Connector.RestoreAsync(request, prior, Cancel);
        (await ObserveAsync(harness, request.Target.Id)).Describe().Should().Be(original.Describe(), "restoring twice changes nothing more");
    }

    [Theory]
    [MemberData(nameof(Actions))]
    public async Task Act_UnknownTarget_FailsClosed(string actionName)
    {
        await using var harness = await StartAsync(Seed(), Cancel);
        var action = ActionCatalogue.Default.Find(actionName)!;
        var request = new ActionRequest(action, ParametersFor(action), new TargetRef(Provider, "u-nobody", "nobody"));

        await harness.Invoking(h => h.Connector.ReadAsync(request, Cancel)).Should().ThrowAsync<ConnectorException>();
        await harness.Invoking(h => h.Connector.ApplyAsync(request, Cancel)).Should().ThrowAsync<ConnectorException>();
    }

    [Fact]
    public async Task Read_ActionOnAnotherProvidersAccount_FailsClosed()
    {
        await using var harness = await StartAsync(Seed(), Cancel);
        var other = Providers.All.First(p => p != Provider);
        var action = ActionCatalogue.Default.Find("disable_user")!;
        var request = new ActionRequest(action, ActionParameters.Empty, new TargetRef(other, "u-alice", "alice"));

        await harness.Invoking(h => h.Connector.ApplyAsync(request, Cancel)).Should().ThrowAsync<ConnectorException>();
    }

    [Fact]
    public async Task Resolve_ByIdNameAndUpn_FindsTheSameAccount()
    {
        await using var harness = await StartAsync(Seed(), Cancel);
        var byName = await harness.Connector.ResolveAsync(new Subject(Provider, null, "alice"), Cancel);
        byName.Problem.Should().BeNull();
        var alice = byName.Identity!;

        var byId = await harness.Connector.ResolveAsync(new Subject(Provider, alice.Id, null), Cancel);
        var byUpn = await harness.Connector.ResolveAsync(new Subject(Provider, null, "alice@corp.example.com"), Cancel);

        byId.Identity!.Id.Should().Be(alice.Id);
        byUpn.Identity!.Id.Should().Be(alice.Id);
        alice.Provider.Should().Be(Provider);
        alice.Enabled.Should().BeTrue();
        alice.Groups.Select(g => g.Name).Should().BeEquivalentTo([CriticalGroup, TeamGroup]);
        alice.TransitiveGroups.Should().Contain(TopGroup);
    }

    [Fact]
    public async Task Resolve_UnknownAccount_IsNotFoundWithAReason()
    {
        await using var harness = await StartAsync(Seed(), Cancel);

        var lookup = await harness.Connector.ResolveAsync(new Subject(Provider, null, "nobody"), Cancel);

        lookup.Identity.Should().BeNull();
        lookup.Problem.Should().NotBeNullOrWhiteSpace();
    }

    [Fact]
    public async Task Resolve_NameSharedByTwoAccounts_RefusesToGuess()
    {
        await using var harness = await StartAsync(Seed(), Cancel);

        var lookup = await harness.Connector.ResolveAsync(new Subject(Provider, null, "shared@corp.example.com"), Cancel);

        lookup.Identity.Should().BeNull("acting on the wrong one of two accounts is worse than not acting");
        lookup.Problem.Should().NotBeNullOrWhiteSpace();
    }

    [Fact]
    public async Task Resolve_AnotherProvidersSubject_IsNotFound()
    {
        await using var harness = await StartAsync(Seed(), Cancel);
        var other = Providers.All.First(p => p != Provider);

        var lookup = await harness.Connector.ResolveAsync(new Subject(other, null, "alice"), Cancel);

        lookup.Identity.Should().BeNull();
    }

    [Fact]
    public async Task CountCritical_Group_CountsEnabledMembersThroughNesting()
    {
        await using var harness = await StartAsync(Seed(), Cancel);
        var ids = await IdsAsync(harness, "alice", "bob");

        var critical = await harness.Connector.CountCriticalAsync(CriticalGroup, Cancel);
        var top = await harness.Connector.CountCriticalAsync(TopGroup, Cancel);

        critical.Provider.Should().Be(Provider);
        critical.Name.Should().Be(CriticalGroup);
        critical.EnabledMemberIds.Should().BeEquivalentTo(ids, "bob is a member through Nested Admins; carol is disabled");
        top.EnabledMemberIds.Should().BeEquivalentTo(ids, "membership of Critical Admins counts for the group it is nested in");
    }

    [Fact]
    public async Task CountCritical_Role_CountsEnabledHoldersOnly()
    {
        if (CriticalRole is null) Assert.Skip($"{Provider.Name()} has no directory roles");
        await using var harness = await StartAsync(Seed(), Cancel);
        var ids = await IdsAsync(harness, "alice", "bob");

        var holders = await harness.Connector.CountCriticalAsync(CriticalRole, Cancel);

        holders.EnabledMemberIds.Should().BeEquivalentTo(ids, "carol holds the role but cannot sign in");
    }

    [Fact]
    public async Task CountCritical_AfterDisable_CountsTheLiveState()
    {
        await using var harness = await StartAsync(Seed(), Cancel);
        var (request, _) = await RequestAsync(harness, "disable_user");

        await harness.Connector.ApplyAsync(request, Cancel);
        var critical = await harness.Connector.CountCriticalAsync(CriticalGroup, Cancel);

        critical.EnabledMemberIds.Should().BeEquivalentTo(await IdsAsync(harness, "bob"));
    }

    [Fact]
    public async Task CountCritical_UnknownGroup_IsEmpty()
    {
        await using var harness = await StartAsync(Seed(), Cancel);

        var set = await harness.Connector.CountCriticalAsync("No Such Group", Cancel);

        set.EnabledMemberIds.Should().BeEmpty();
    }

    /// <summary>The request for an action on its seeded target, resolved through the connector as the executor does.</summary>
    [Fact]
    public async Task Export_WritesASnapshotThatResolvesEveryAccountAsTheConnectorDoes()
    {
        await using var harness = await StartAsync(Seed(), Cancel);
        harness.Connector.Should().BeAssignableTo<IDirectoryExport>("`respond snapshot` exports every configured directory");
        var export = await ((IDirectoryExport)harness.Connector).ExportAsync(Cancel);
        export.Provider.Should().Be(Provider);
        var generatedAt = new DateTimeOffset(2026, 11, 26, 9, 0, 0, TimeSpan.Zero);

        var bytes = SnapshotWriter.Write([export], generatedAt);
        var json = System.Text.Encoding.UTF8.GetString(bytes);
        SchemaValidator.Validate("directory", json).Should().BeEmpty();
        SnapshotWriter.Write([export], generatedAt).Should().Equal(bytes, "two exports of one directory state are the same file");
        var load = SnapshotReader.Read(bytes, "export.json", PrivilegedPolicy.Default);
        load.Diagnostics.Should().BeEmpty();
        load.Snapshot!.GeneratedAt.Should().Be(generatedAt);

        foreach (var user in Seed().Users)
        {
            var live = (await harness.Connector.ResolveAsync(new Subject(Provider, null, user.Name), Cancel)).Identity!;
            var exported = load.Snapshot.Resolve(new Subject(Provider, live.Id, null));
            exported.Problem.Should().BeNull($"{user.Name} is in the export");
            var copy = exported.Identity!;
            Observe(copy).Describe().Should().Be(Observe(live).Describe(), $"the export says what the directory says of {user.Name}");
            copy.Name.Should().Be(live.Name);
            copy.Upn.Should().Be(live.Upn);
            copy.TransitiveGroups.Order(StringComparer.OrdinalIgnoreCase).Should().Equal(live.TransitiveGroups.Order(StringComparer.OrdinalIgnoreCase));
        }

        load.Snapshot.FindGroup(Provider, NestedGroup)!.MemberOf.Should().Equal([CriticalGroup], "nesting is kept");
    }

    public const string RootGroup = "Privilege Root";
    public const string BranchGroup = "Privilege Branch";
    public const string RoleGroup = "Role Holders";

    /// <summary>Whether the directory has an AD primary group (primaryGroupID) the seed can set.</summary>
    protected virtual bool HasPrimaryGroups => Provider == Provider.Ad;

    /// <summary>Whether the directory has PIM eligibility (Entra).</summary>
    protected virtual bool HasEligibility => Provider == Provider.Entra;

    /// <summary>
    /// Effective privilege, one seed for every directory: ann (direct member of Privilege Root), ben (in Privilege Branch,
    /// nested in Root), cid (disabled, in Branch), dee (in Role Holders, a group holding the critical role: Entra
    /// role-assignable, Okta group admin role), eli (eligible for the role where PIM exists), pat (primary group Root, AD).
    /// </summary>
    protected virtual ContractDirectory PrivilegeSeed()
    {
        var okta = Provider == Provider.Okta ? "OKTA_GROUP" : null;
        Group Group(string name, string[] memberOf, string[]? roles = null) => new(Provider, "g-" + name.Replace(' ', '-').ToLowerInvariant(), name)
        {
            MemberOf = [.. memberOf],
            OktaType = okta,
            Roles = [.. roles ?? []],
            RoleAssignable = roles is not null && Provider == Provider.Entra,
        };

        UserEntry User(string name, string[] groups, bool enabled = true) => new(Provider, "u-" + name, name)
        {
            Upn = $"{name}@corp.example.com",
            Email = $"{name}.mail@corp.example.com",
            DisplayName = char.ToUpperInvariant(name[0]) + name[1..],
            Enabled = enabled,
            OktaStatus = Provider == Provider.Okta ? (enabled ? OktaStatuses.Active : OktaStatuses.Suspended) : null,
            Groups = groups,
        };

        var users = new List<UserEntry>
        {
            User("ann", [RootGroup]),
            User("ben", [BranchGroup]),
            User("cid", [BranchGroup], enabled: false),
            User("dee", [RoleGroup]),
        };
        if (HasEligibility && CriticalRole is not null) users.Add(User("eli", []) with { EligibleRoles = [CriticalRole] });
        if (HasPrimaryGroups) users.Add(User("pat", []) with { PrimaryGroup = RootGroup });
        return new ContractDirectory(
            Provider,
            [Group(RootGroup, []), Group(BranchGroup, [RootGroup]), Group(RoleGroup, [], CriticalRole is null ? null : [CriticalRole])],
            [.. users]);
    }

    [Fact]
    public async Task CountCritical_GroupThroughNestingAndPrimaryGroup_ReturnsTheGraphOfEveryPath()
    {
        await using var harness = await StartAsync(PrivilegeSeed(), Cancel);
        var expected = await IdsAsync(harness, HasPrimaryGroups ? ["ann", "ben", "pat"] : ["ann", "ben"]);

        var set = await harness.Connector.CountCriticalAsync(RootGroup, Cancel);

        set.EnabledMemberIds.Should().BeEquivalentTo(expected, "ben holds Root through Branch, pat as its primary group; cid is disabled");
        set.Graph.Should().NotBeNull("lockout protection decides on the paths, not on names");
        set.SetNode.Should().NotBeNull();
        set.Graph!.NameOf(set.SetNode!).Should().Be(RootGroup);
        set.Graph.EffectiveHolders(set.SetNode!, countBreakGlass: true).Should().BeEquivalentTo(set.EnabledMemberIds, "the count and the graph agree");
        var ben = expected[1];
        var branch = set.Graph.Edges.Single(e => e.From == ben && e.Kind == EdgeKind.Member).To;
        set.Graph.NameOf(branch).Should().Be(BranchGroup);
        set.Graph.Edges.Should().Contain(new PrivilegeEdge(branch, set.SetNode!, EdgeKind.Member), "the nested group is on the way, with its own edge");
        if (HasPrimaryGroups)
        {
            set.Graph.Edges.Should().Contain(new PrivilegeEdge(expected[2], set.SetNode!, EdgeKind.PrimaryGroup), "a primary group is held, but not as a member");
        }
    }

    [Fact]
    public async Task CountCritical_RoleHeldThroughAGroup_CountsTheGroupsMembersNotTheEligible()
    {
        if (CriticalRole is null) Assert.Skip($"{Provider.Name()} has no directory roles");
        await using var harness = await StartAsync(PrivilegeSeed(), Cancel);
        var dee = (await IdsAsync(harness, "dee"))[0];

        var set = await harness.Connector.CountCriticalAsync(CriticalRole, Cancel);

        set.EnabledMemberIds.Should().Equal([dee], "dee holds the role through Role Holders; eli is only eligible");
        set.Graph!.EffectiveHolders(set.SetNode!, countBreakGlass: true).Should().BeEquivalentTo(set.EnabledMemberIds);
        set.Graph.Edges.Should().Contain(e => e.From == dee && e.Kind == EdgeKind.Member && set.Graph.NameOf(e.To) == RoleGroup);
    }

    [Fact]
    public async Task Resolve_EffectivePrivilege_GroupHeldRolesPrimaryGroupAndEligibility()
    {
        await using var harness = await StartAsync(PrivilegeSeed(), Cancel);

        var ben = (await harness.Connector.ResolveAsync(new Subject(Provider, null, "ben"), Cancel)).Identity!;
        ben.TransitiveGroups.Should().Contain([BranchGroup, RootGroup]);
        if (CriticalRole is { } role)
        {
            var dee = (await harness.Connector.ResolveAsync(new Subject(Provider, null, "dee"), Cancel)).Identity!;
            dee.HasRole(role).Should().BeTrue("the role is held through Role Holders");
            dee.DirectRoles.Should().NotContain(role, "nothing is assigned to dee itself");
            dee.Privileged.Should().BeTrue();
        }

        if (HasPrimaryGroups)
        {
            var pat = (await harness.Connector.ResolveAsync(new Subject(Provider, null, "pat"), Cancel)).Identity!;
            pat.PrimaryGroup.Should().Be(RootGroup);
            pat.IsMemberOf(RootGroup).Should().BeTrue();
            pat.Groups.Select(g => g.Name).Should().Contain(RootGroup);
        }

        if (HasEligibility && CriticalRole is { } eligibleRole)
        {
            var eli = (await harness.Connector.ResolveAsync(new Subject(Provider, null, "eli"), Cancel)).Identity!;
            eli.EligibleRoles.Should().Equal(eligibleRole);
            eli.HasRole(eligibleRole).Should().BeFalse("eligible is reported, never held");
            eli.Privileged.Should().BeFalse();
        }
    }

    [Fact]
    public async Task Export_EffectivePrivilege_ReadsBackAsTheConnectorResolves()
    {
        await using var harness = await StartAsync(PrivilegeSeed(), Cancel);
        var export = await ((IDirectoryExport)harness.Connector).ExportAsync(Cancel);
        var bytes = SnapshotWriter.Write([export], new DateTimeOffset(2026, 12, 6, 9, 0, 0, TimeSpan.Zero));
        SchemaValidator.Validate("directory", System.Text.Encoding.UTF8.GetString(bytes)).Should().BeEmpty();
        var snapshot = SnapshotReader.Read(bytes, "export.json", PrivilegedPolicy.Default).Snapshot!;

        foreach (var user in PrivilegeSeed().Users)
        {
            var live = (await harness.Connector.ResolveAsync(new Subject(Provider, null, user.Name), Cancel)).Identity!;
            var copy = snapshot.Resolve(new Subject(Provider, live.Id, null)).Identity!;
            var because = $"the export says what the directory says of {user.Name}";
            copy.Roles.Order(StringComparer.OrdinalIgnoreCase).Should().Equal(live.Roles.Order(StringComparer.OrdinalIgnoreCase), because);
            copy.DirectRoles.Order(StringComparer.OrdinalIgnoreCase).Should().Equal(live.DirectRoles.Order(StringComparer.OrdinalIgnoreCase), because);
            copy.EligibleRoles.Order(StringComparer.OrdinalIgnoreCase).Should().Equal(live.EligibleRoles.Order(StringComparer.OrdinalIgnoreCase), because);
            copy.PrimaryGroup.Should().Be(live.PrimaryGroup, because);
            copy.Privileged.Should().Be(live.Privileged, because);
            copy.TransitiveGroups.Order(StringComparer.OrdinalIgnoreCase).Should().Equal(live.TransitiveGroups.Order(StringComparer.OrdinalIgnoreCase), because);
        }
    }

    protected async Task<(ActionRequest Request, ActionDefinition Action)> RequestAsync(ConnectorHarness harness, string actionName)
    {
        ArgumentNullException.ThrowIfNull(harness);
        var action = ActionCatalogue.Default.Find(actionName) ?? throw new ArgumentException($"no action {actionName}", nameof(actionName));
        var name = TargetFor(action);
        var identity = (await harness.Connector.ResolveAsync(new Subject(Provider, null, name), Cancel)).Identity
            ?? throw new InvalidOperationException($"the seeded account {name} does not resolve");
        return (new ActionRequest(action, ParametersFor(action), new TargetRef(Provider, identity.Id, identity.Name)), action);
    }

    protected async Task<ObservedState> ObserveAsync(ConnectorHarness harness, string userId)
    {
        ArgumentNullException.ThrowIfNull(harness);
        var identity = await harness.InspectAsync(userId, Cancel) ?? throw new InvalidOperationException($"account {userId} is gone");
        return Observe(identity);
    }

    private async Task<List<string>> IdsAsync(ConnectorHarness harness, params string[] names)
    {
        var ids = new List<string>();
        foreach (var name in names)
        {
            ids.Add((await harness.Connector.ResolveAsync(new Subject(Provider, null, name), Cancel)).Identity!.Id);
        }

        return ids;
    }

    private static void ParseObject(string json)
    {
        using var document = JsonDocument.Parse(json);
        document.RootElement.ValueKind.Should().Be(JsonValueKind.Object, "the prior state is a JSON object the audit row keeps for undo");
    }
}
