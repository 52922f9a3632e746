using System.Collections.Concurrent;
using ResponseEngine.Findings;
using ResponseEngine.Identities;

namespace ResponseEngine.Execution;

/// <summary>
/// A connector that reads a directory snapshot and never acts: what a plan runs the executor over, so the plan is the
/// run (same order, same guards) with the snapshot as the directory. The local directory connector reads the same way
/// through it. Every count of a critical set is logged, so the plan can name the decisions that were counted on the
/// snapshot rather than live.
/// </summary>
public sealed class SnapshotConnector(DirectorySnapshot snapshot, Provider provider, SnapshotReads? reads = null) : IConnector
{
    public Provider Provider { get; } = provider;

    /// <summary>One connector per provider over the same snapshot, sharing one log of counts.</summary>
    public static IReadOnlyDictionary<Provider, IConnector> For(DirectorySnapshot snapshot, SnapshotReads reads) =>
        Providers.All.ToDictionary(p => p, IConnector (p) => new SnapshotConnector(snapshot, p, reads));

    public Task<IdentityLookup> ResolveAsync(Subject subject, CancellationToken cancellationToken) => Task.FromResult(Resolve(snapshot, Provider, subject));

    /// <summary>How a connector for <paramref name="provider"/> resolves a subject in a snapshot: by id, else by an unambiguous name.</summary>
    public static IdentityLookup Resolve(DirectorySnapshot snapshot, Provider provider, Subject subject)
    {
        ArgumentNullException.ThrowIfNull(snapshot);
        ArgumentNullException.ThrowIfNull(subject);
        if (subject.Provider != provider)
        {
            return IdentityLookup.NotFound($"the {provider.Name()} connector cannot resolve a {subject.Provider.Name()} account");
        }

        if (subject.Id is null && subject.Name is null) return IdentityLookup.NotFound("the subject has neither an id nor a name");
        return snapshot.Resolve(subject);
    }

    // The snapshot never changes: each set is counted once (a plan counts every critical set per destructive decision).
    private readonly ConcurrentDictionary<string, CriticalSet> _counts = new(StringComparer.Ordinal);

    public Task<CriticalSet> CountCriticalAsync(string groupOrRole, CancellationToken cancellationToken)
    {
        reads?.Counted(Provider, groupOrRole);
        return Task.FromResult(_counts.GetOrAdd(groupOrRole, set => CountCritical(snapshot, Provider, set)));
    }

    /// <summary>The enabled holders of a critical group or role of one provider in a snapshot.</summary>
    public static CriticalSet CountCritical(DirectorySnapshot snapshot, Provider provider, string groupOrRole)
    {
        ArgumentNullException.ThrowIfNull(snapshot);
        ArgumentException.ThrowIfNullOrEmpty(groupOrRole);
        return CriticalSet.From(provider, groupOrRole, snapshot.Graph(provider));
    }

    /// <summary>A plan decides, it never reads a target to act on it: the executor calls this only when it acts.</summary>
    public Task<TargetState> ReadAsync(ActionRequest request, CancellationToken cancellationToken) => throw NeverActs();

    public Task ApplyAsync(ActionRequest request, CancellationToken cancellationToken) => throw NeverActs();

    public Task<bool> VerifyAsync(ActionRequest request, CancellationToken cancellationToken) => throw NeverActs();

    public Task RestoreAsync(ActionRequest request, string priorState, CancellationToken cancellationToken) => throw NeverActs();

    private static ConnectorException NeverActs() => new("the snapshot connector of a plan never acts");
}

/// <summary>The critical sets the snapshot connectors counted since they were last taken: which counts a decision rested on.</summary>
public sealed class SnapshotReads
{
    private readonly ConcurrentQueue<(Provider Provider, string Set)> _counted = new();

    internal void Counted(Provider provider, string set) => _counted.Enqueue((provider, set));

    /// <summary>The sets counted since the last call, in order, without repeats; the log is empty afterwards.</summary>
    public IReadOnlyList<string> Take()
    {
        if (_counted.IsEmpty) return [];
        var sets = new List<string>();
        while (_counted.TryDequeue(out var item))
        {
            if (!sets.Contains(item.Set, StringComparer.OrdinalIgnoreCase)) sets.Add(item.Set);
        }

        return sets;
    }
}
