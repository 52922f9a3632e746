using System.Text.Json;
using System.Text.Json.Nodes;
using ResponseEngine.Execution;
using ResponseEngine.Findings;
using ResponseEngine.Identities;

namespace ResponseEngine.Connectors.Local;

/// <summary>
/// The connector for one provider of the local directory: the embedded default, and the reference for what every
/// connector does (state-aware, idempotent, fail closed, prior state for undo).
/// </summary>
public sealed class LocalDirectoryConnector : IConnector, IDirectoryExport
{
    private readonly LocalDirectory _directory;

    internal LocalDirectoryConnector(LocalDirectory directory, Provider provider)
    {
        _directory = directory;
        Provider = provider;
    }

    public Provider Provider { get; }

    /// <summary>This provider's accounts and groups in the working copy, with every change the engine has made.</summary>
    public async Task<DirectoryExport> ExportAsync(CancellationToken cancellationToken)
    {
        var snapshot = await _directory.ReadSnapshotAsync(cancellationToken);
        return new DirectoryExport(
            Provider,
            [.. snapshot.Users.Where(u => u.Provider == Provider).Select(SnapshotWriter.Entry)],
            [.. snapshot.Groups.Where(g => g.Provider == Provider)]);
    }

    public async Task<IdentityLookup> ResolveAsync(Subject subject, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(subject);
        if (subject.Provider != Provider || (subject.Id is null && subject.Name is null))
        {
            return SnapshotConnector.Resolve(new DirectorySnapshot([], []), Provider, subject); // refused before the file is read
        }

        return await _directory.ReadAsync(model => model.Resolve(Provider, subject), cancellationToken);
    }

    public async Task<TargetState> ReadAsync(ActionRequest request, CancellationToken cancellationToken)
    {
        var action = Check(request);
        return await _directory.ReadAsync(model => State(action, Find(model, request.Target), request), cancellationToken);
    }

    private static TargetState State(LocalAction action, Identity user, ActionRequest request) =>
        new(action.IsDone(user, request), action.Prior(user, request).ToJsonString(), action.Describe(user, request));

    public Task ApplyAsync(ActionRequest request, CancellationToken cancellationToken)
    {
        var action = Check(request);
        return _directory.ChangeAsync(model =>
        {
            // Read again under the writer lock: what changed since the executor's read (another run, a person) is
            // reported as such, with the state found now, and nothing is written.
            var user = Edit(model, request.Target);
            var now = user.Identity;
            if (action.IsDone(now, request))
            {
                throw new TargetChangedException(State(action, now, request),
                    $"already {action.Describe(now, request)} when the change was to be made (changed since it was read); nothing done");
            }

            if (action.Refusal(now, request) is { } refusal)
            {
                throw new TargetChangedException(State(action, now, request), $"{refusal} (changed since the decision was made); nothing done");
            }

            action.Apply(user, request, _directory.Time.GetUtcNow(), model.FindGroup);
            return user.Entry;
        }, durable: false, cancellationToken);
    }

    /// <summary>One flush of the journal for every change applied so far (<see cref="LocalDirectory.SyncAsync"/>).</summary>
    public Task MakeDurableAsync(CancellationToken cancellationToken) => _directory.SyncAsync(cancellationToken);

    public async Task<bool> VerifyAsync(ActionRequest request, CancellationToken cancellationToken)
    {
        var action = Check(request);
        return await _directory.ReadAsync(model => action.IsDone(Find(model, request.Target), request), cancellationToken);
    }

    public Task RestoreAsync(ActionRequest request, string priorState, CancellationToken cancellationToken)
    {
        var action = Check(request);
        JsonElement prior;
        try
        {
            using var document = JsonDocument.Parse(priorState);
            prior = document.RootElement.Clone();
        }
        catch (JsonException e)
        {
            throw new ConnectorException($"the recorded prior state of {action.Name} is not JSON: {e.Message}", e);
        }

        if (prior.ValueKind != JsonValueKind.Object) throw new ConnectorException($"the recorded prior state of {action.Name} is not a JSON object");
        return _directory.ChangeAsync(model =>
        {
            var user = Edit(model, request.Target);
            var before = user.Entry.ToJsonString();
            action.Restore(user, request, prior);
            return user.Entry.ToJsonString() != before ? user.Entry : null;
        }, durable: true, cancellationToken);
    }

    public async Task<CriticalSet> CountCriticalAsync(string groupOrRole, CancellationToken cancellationToken)
    {
        ArgumentException.ThrowIfNullOrEmpty(groupOrRole);
        return await _directory.ReadAsync(model => model.CountCritical(Provider, groupOrRole), cancellationToken);
    }

    private LocalAction Check(ActionRequest request)
    {
        ArgumentNullException.ThrowIfNull(request);
        if (request.Target.Provider != Provider)
        {
            throw new ConnectorException($"the {Provider.Name()} connector was asked to act on a {request.Target.Provider.Name()} account ({request.Target.Name})");
        }

        if (!request.Action.Supports(Provider) || !LocalAction.All.TryGetValue(request.Action.Name, out var action))
        {
            throw new ConnectorException($"{request.Action.Name} is not an action {Provider.Name()} supports");
        }

        return action;
    }

    /// <summary>By id only: the executor acts on the account it resolved, never on a name that might now mean someone else.</summary>
    private Identity Find(LocalModel model, TargetRef target) =>
        model.Find(Provider, target.Id)
            ?? throw new ConnectorException($"no {Provider.Name()} account with id '{target.Id}' ({target.Name}) in {_directory.WorkingCopyPath}");

    /// <summary>The account to change, with a copy of its entry to edit: the model changes only once the edit is on disk.</summary>
    private LocalUser Edit(LocalModel model, TargetRef target)
    {
        var identity = Find(model, target);
        return new LocalUser(identity, (JsonObject)model.Entry(Provider, identity.Id).DeepClone());
    }
}
