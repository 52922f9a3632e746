using System.Collections.Immutable;
using System.Text.Json.Nodes;
using CsCheck;
using Microsoft.Extensions.Time.Testing;
using ResponseEngine.Actions;
using ResponseEngine.Configuration;
using ResponseEngine.Execution;
using ResponseEngine.Findings;
using ResponseEngine.Identities;
using ResponseEngine.Identities.Privilege;
using ResponseEngine.TestKit;

namespace ResponseEngine.Connectors.Local.Tests;

/// <summary>
/// The local directory's indexed model and journal against a naive reference: the whole snapshot read again from the
/// JSON tree before every step, as the directory did before it kept a model. Random sequences of actions, undos,
/// compactions, crashes (an instance dropped without closing, its journal left behind) and second instances on the same
/// files (another process) must give the same answers (outcome, prior state, resolved account, counted critical sets,
/// lockout verdicts) and the same working copy, byte for byte.
/// </summary>
public sealed class LocalStoreModelTests
{
    private static readonly string[] ActionNames =
        ["disable_user", "enable_user", "reset_password", "revoke_sessions", "revoke_group", "remove_role_assignment", "enforce_mfa", "mark_compromised", "deactivate_user"];

    private static readonly string[] Roles = ["Global Administrator", "Privileged Role Administrator", "User Administrator", "Security Administrator"];

    private static CancellationToken Cancel => TestContext.Current.CancellationToken;

    private enum Kind
    {
        Apply,
        Undo,
        Crash,
        Close,
        Compact,
    }

    private sealed record Step(Kind Kind, int Instance, int User, int Action, int Pick, bool Flag);

    [Fact]
    public async Task RandomSequences_OnTheStore_AnswerAsTheNaiveReference()
    {
        var sample = JsonNode.Parse(await File.ReadAllTextAsync(RepoPaths.SampleDirectory, Cancel))!.AsObject();
        var users = sample["users"]!.AsArray().Select(u => (Provider: ParseProvider((string)u!["provider"]!), Id: (string)u["id"]!, Name: (string)u["name"]!)).ToList();
        var groups = sample["groups"]!.AsArray().Select(g => (Provider: ParseProvider((string)g!["provider"]!), Name: (string)g["name"]!)).ToList();
        var step = Gen.Select(Gen.Int[0, 99], Gen.Int[0, 1], Gen.Int[0, users.Count - 1], Gen.Int[0, ActionNames.Length - 1], Gen.Int[0, 1000], Gen.Bool)
            .Select((kind, instance, user, action, pick, flag) => new Step(
                kind switch { < 70 => Kind.Apply, < 80 => Kind.Undo, < 88 => Kind.Crash, < 94 => Kind.Close, _ => Kind.Compact }, instance, user, action, pick, flag));

        await step.Array[1, 40].SampleAsync(async steps =>
        {
            using var folder = new TempDirectory();
            var seed = Path.Combine(folder.Path, "seed.json");
            File.Copy(RepoPaths.SampleDirectory, seed);
            var working = Path.Combine(folder.Path, "state", "directory.json");
            var time = new FakeTimeProvider(new DateTimeOffset(2026, 11, 26, 8, 0, 0, TimeSpan.Zero));
            var reference = new Reference(JsonNode.Parse(await File.ReadAllTextAsync(seed, Cancel))!.AsObject());
            var instances = new[] { LocalDirectory.Open(seed, working, time), LocalDirectory.Open(seed, working, time) };
            var done = new Stack<(ActionRequest Request, string Prior)>();
            try
            {
                foreach (var s in steps)
                {
                    time.Advance(TimeSpan.FromSeconds(1));
                    var directory = instances[s.Instance];
                    switch (s.Kind)
                    {
                        case Kind.Apply:
                            var (provider, id, name) = users[s.User];
                            var action = ActionCatalogue.Default.Find(ActionNames[s.Action])!;
                            if (!action.Supports(provider)) continue;
                            var request = new ActionRequest(action, Parameters(action.Name, provider, s, groups), new TargetRef(provider, id, name));
                            var connector = directory.Connector(provider);
                            var state = await connector.ReadAsync(request, Cancel);
                            var expected = reference.State(request);
                            (state.AlreadyDone, state.PriorState, state.Description).Should().Be(expected, $"the state read before {action.Name} of {id}");
                            var outcome = await OutcomeAsync(() => connector.ApplyAsync(request, Cancel));
                            outcome.Should().Be(reference.Apply(request, time.GetUtcNow()), $"{action.Name} of {id}");
                            if (outcome == "applied") done.Push((request, state.PriorState));
                            (await connector.VerifyAsync(request, Cancel)).Should().Be(reference.State(request).Done);
                            break;
                        case Kind.Undo when done.Count > 0:
                            var (undo, prior) = done.Pop();
                            var restored = await OutcomeAsync(() => directory.Connector(undo.Target.Provider).RestoreAsync(undo, prior, Cancel));
                            restored.Should().Be(reference.Restore(undo, prior), $"undo of {undo.Action.Name} of {undo.Target.Id}");
                            break;
                        case Kind.Crash:
                            instances[s.Instance] = LocalDirectory.Open(seed, working, time); // dropped without closing: its journal stays
                            break;
                        case Kind.Close:
                            directory.Dispose();
                            instances[s.Instance] = LocalDirectory.Open(seed, working, time);
                            break;
                        case Kind.Compact:
                            await directory.CompactAsync(Cancel);
                            break;
                    }

                    await CheckAsync(instances[s.Flag ? 1 : 0], reference, users[s.Pick % users.Count], s.Pick);
                }

                await CheckAsync(instances[0], reference, users[0], 0);
                instances[0].Dispose();
                instances[1].Dispose();
                (await File.ReadAllBytesAsync(working, Cancel)).Should().Equal(reference.Bytes(), "once closed, the working copy holds every change");
            }
            finally
            {
                foreach (var instance in instances) instance.Dispose();
            }
        }, iter: 20, threads: 1);
    }

    private static async Task CheckAsync(LocalDirectory directory, Reference reference, (Provider Provider, string Id, string Name) user, int pick)
    {
        (await directory.ExportAsync(Cancel)).Should().Equal(reference.Bytes());
        var connector = directory.Connector(user.Provider);
        var bySubject = pick % 2 == 0 ? new Subject(user.Provider, user.Id, null) : new Subject(user.Provider, null, user.Name);
        var found = await connector.ResolveAsync(bySubject, Cancel);
        var expected = SnapshotConnector.Resolve(reference.Snapshot(), user.Provider, bySubject);
        Fingerprint(found.Identity).Should().Be(Fingerprint(expected.Identity));
        found.Problem.Should().Be(expected.Problem);
        var options = new LockoutOptions();
        foreach (var set in options.Critical[user.Provider])
        {
            var live = await connector.CountCriticalAsync(set, Cancel);
            var naive = SnapshotConnector.CountCritical(reference.Snapshot(), user.Provider, set);
            live.EnabledMemberIds.Should().Equal(naive.EnabledMemberIds, $"the enabled holders of {set}");
            foreach (var target in naive.EnabledMemberIds.Append(user.Id))
            {
                ImmutableArray<GraphEdit> proposed = [new GraphEdit.Disable(target)];
                var a = LockoutRule.Evaluate(live.Graph!, live.SetNode!, [], proposed, 2);
                var b = LockoutRule.Evaluate(naive.Graph!, naive.SetNode!, [], proposed, 2);
                (a.Allowed, a.HoldersBefore, a.HoldersAfter, a.Reason).Should().Be((b.Allowed, b.HoldersBefore, b.HoldersAfter, b.Reason), $"disabling {target} against {set}");
            }
        }
    }

    private static Provider ParseProvider(string text) => Providers.TryParse(text, out var provider) ? provider : throw new InvalidOperationException(text);

    private static string Fingerprint(Identity? identity) => identity is null ? "none" : string.Join('|',
        identity.Provider, identity.Id, identity.Enabled, identity.Privileged, identity.GlobalAdmin, string.Join(',', identity.Groups.Select(g => g.Name)),
        string.Join(',', identity.TransitiveGroups.Order(StringComparer.Ordinal)), string.Join(',', identity.Roles), string.Join(',', identity.DirectRoles),
        identity.OktaStatus, identity.PasswordMustChange, identity.RandomPasswordSetAt, identity.SessionsRevokedAt, identity.RiskState, string.Join(',', identity.MfaPolicies));

    private static ActionParameters Parameters(string action, Provider provider, Step s, List<(Provider Provider, string Name)> groups)
    {
        var mine = groups.Where(g => g.Provider == provider).Select(g => g.Name).ToList();
        return action switch
        {
            "revoke_group" when mine.Count > 0 => ActionParameters.Empty.With("groups", ImmutableArray.Create(mine[s.Pick % mine.Count], mine[s.Pick / 7 % mine.Count])),
            "remove_role_assignment" => ActionParameters.Empty.With("roles", ImmutableArray.Create(Roles[s.Pick % Roles.Length])),
            "reset_password" when provider == Provider.Ad => ActionParameters.Empty.With("set_random", s.Flag),
            _ => ActionParameters.Empty,
        };
    }

    private static async Task<string> OutcomeAsync(Func<Task> act)
    {
        try
        {
            await act();
            return "applied";
        }
        catch (TargetChangedException)
        {
            return "changed";
        }
        catch (ConnectorException e)
        {
            return "refused: " + e.Message;
        }
    }

    /// <summary>The naive directory: a JSON tree, read whole into a snapshot for every question.</summary>
    private sealed class Reference(JsonObject root)
    {
        public byte[] Bytes() => SnapshotFormat.Write(root);

        public DirectorySnapshot Snapshot() => SnapshotReader.Read(Bytes(), "reference.json", PrivilegedPolicy.Default).Snapshot!;

        public (bool Done, string Prior, string Description) State(ActionRequest request)
        {
            var action = LocalAction.All[request.Action.Name];
            var user = Find(request);
            return (action.IsDone(user, request), action.Prior(user, request).ToJsonString(), action.Describe(user, request));
        }

        public string Apply(ActionRequest request, DateTimeOffset now)
        {
            var action = LocalAction.All[request.Action.Name];
            var identity = Find(request);
            if (action.IsDone(identity, request) || action.Refusal(identity, request) is not null) return "changed";
            var snapshot = Snapshot();
            return Edit(request, entry => action.Apply(new LocalUser(identity, entry), request, now, snapshot.FindGroup));
        }

        public string Restore(ActionRequest request, string prior)
        {
            var action = LocalAction.All[request.Action.Name];
            var identity = Find(request);
            using var document = System.Text.Json.JsonDocument.Parse(prior);
            var element = document.RootElement.Clone();
            return Edit(request, entry => action.Restore(new LocalUser(identity, entry), request, element));
        }

        private string Edit(ActionRequest request, Action<JsonObject> edit)
        {
            var users = root["users"]!.AsArray();
            var index = users.Select((u, i) => (u, i)).First(x => (string)x.u!["provider"]! == request.Target.Provider.Name() && (string)x.u["id"]! == request.Target.Id).i;
            var copy = users[index]!.DeepClone().AsObject();
            try
            {
                edit(copy);
            }
            catch (ConnectorException e)
            {
                return "refused: " + e.Message;
            }

            users[index] = copy;
            return "applied";
        }

        private Identity Find(ActionRequest request) => Snapshot().Resolve(new Subject(request.Target.Provider, request.Target.Id, null)).Identity!;
    }
}
