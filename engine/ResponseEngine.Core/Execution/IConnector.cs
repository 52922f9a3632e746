using System.Collections.Immutable;
using ResponseEngine.Actions;
using ResponseEngine.Findings;
using ResponseEngine.Identities;
using ResponseEngine.Identities.Privilege;

namespace ResponseEngine.Execution;

/// <summary>The account an action is applied to, as the directory identifies it.</summary>
public sealed record TargetRef(Provider Provider, string Id, string Name);

/// <summary>One action to apply to one target.</summary>
public sealed record ActionRequest(ActionDefinition Action, ActionParameters Parameters, TargetRef Target);

/// <summary>
/// What the connector read before acting: whether the target is already in the state the action wants, and the
/// prior state as JSON (recorded with the outcome, and what `respond undo` restores).
/// </summary>
public sealed record TargetState(bool AlreadyDone, string PriorState, string? Description = null);

/// <summary>Enabled holders of a critical group or role, counted live for lockout protection.</summary>
/// <param name="EnabledMemberIds">Enabled effective holders by every path (nesting, AD primary group, group-held roles, PIM active; never eligible), break-glass accounts included.</param>
public sealed record CriticalSet(Provider Provider, string Name, ImmutableArray<string> EnabledMemberIds)
{
    /// <summary>The node the set is in <see cref="Graph"/>: the group's id for a group, the role name for a role.</summary>
    public string? SetNode { get; init; }

    /// <summary>Every principal with a path to the set and the edges on those paths (direct facts; the graph computes the closure).</summary>
    public PrivilegeGraph? Graph { get; init; }

    /// <summary>The set as a graph shows it: its holders are the graph's enabled effective holders, so the two cannot disagree.</summary>
    public static CriticalSet From(Provider provider, string name, PrivilegeGraph graph)
    {
        ArgumentNullException.ThrowIfNull(graph);
        var node = graph.Node(name);
        return new CriticalSet(provider, name, [.. graph.EffectiveHolders(node, countBreakGlass: true).Order(StringComparer.Ordinal)])
        {
            SetNode = node,
            Graph = graph,
        };
    }
}

/// <summary>
/// An adapter for one directory. Connectors know nothing of rules, guards, dry-run or audit: the executor decides
/// all of that and calls them only for what it has decided to do.
/// </summary>
public interface IConnector
{
    Provider Provider { get; }

    /// <summary>What the directory says about the account now; a failure means no action (fail closed).</summary>
    Task<IdentityLookup> ResolveAsync(Subject subject, CancellationToken cancellationToken);

    /// <summary>Reads the state the action would change.</summary>
    Task<TargetState> ReadAsync(ActionRequest request, CancellationToken cancellationToken);

    /// <summary>
    /// Applies the action. Throws <see cref="ConnectorException"/> with the provider's message on failure. The change may
    /// become durable only with the next <see cref="MakeDurableAsync"/>, which the executor awaits before it records the outcome.
    /// </summary>
    Task ApplyAsync(ActionRequest request, CancellationToken cancellationToken);

    /// <summary>
    /// Returns once every change an <see cref="ApplyAsync"/> of this connector has returned from would survive a crash of
    /// the machine; throws <see cref="ConnectorException"/> when that cannot be made sure. A directory that keeps its own
    /// files (the local directory) makes the changes of a batch durable with one flush to disk here; a directory across the
    /// network has made a change durable when it answers, so the default returns at once. Wrappers must forward it.
    /// </summary>
    Task MakeDurableAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    /// <summary>Reads back whether the action took effect.</summary>
    Task<bool> VerifyAsync(ActionRequest request, CancellationToken cancellationToken);

    /// <summary>Puts the target back into a recorded prior state (undo).</summary>
    Task RestoreAsync(ActionRequest request, string priorState, CancellationToken cancellationToken);

    /// <summary>Enabled members (transitively) of a critical group, or enabled holders of a critical role.</summary>
    Task<CriticalSet> CountCriticalAsync(string groupOrRole, CancellationToken cancellationToken);
}

/// <summary>A directory refused or failed an operation; the message is the provider's, made readable.</summary>
public class ConnectorException : Exception
{
    public ConnectorException(string message, bool transient = false, Exception? inner = null)
        : base(message, inner)
    {
        Transient = transient;
    }

    public ConnectorException()
    {
    }

    public ConnectorException(string message)
        : base(message)
    {
    }

    public ConnectorException(string message, Exception inner)
        : base(message, inner)
    {
    }

    /// <summary>Worth retrying (throttling, unavailable); permanent failures (denied, not found) are not.</summary>
    public bool Transient { get; }
}

/// <summary>
/// Thrown by <see cref="IConnector.ApplyAsync"/> when, read again at the moment of acting, the account is no longer in
/// the state the decision was made on (another run or a person changed it since), so the connector changed nothing:
/// the executor records a no-op with <see cref="Current"/> as the prior state, never a failure or a success it did not cause.
/// </summary>
public sealed class TargetChangedException : ConnectorException
{
    public TargetChangedException(TargetState current, string message)
        : base(message)
    {
        ArgumentNullException.ThrowIfNull(current);
        Current = current;
    }

    public TargetChangedException()
    {
        Current = new TargetState(false, "{}");
    }

    public TargetChangedException(string message)
        : base(message)
    {
        Current = new TargetState(false, "{}");
    }

    public TargetChangedException(string message, Exception inner)
        : base(message, inner)
    {
        Current = new TargetState(false, "{}");
    }

    /// <summary>The account as the connector found it when it was about to act: already done, or no longer one the action applies to.</summary>
    public TargetState Current { get; }
}
