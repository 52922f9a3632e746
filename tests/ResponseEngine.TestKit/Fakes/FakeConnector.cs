using System.Collections.Concurrent;
using ResponseEngine.Execution;
using ResponseEngine.Findings;
using ResponseEngine.Identities;

namespace ResponseEngine.TestKit.Fakes;

/// <summary>
/// A connector over an in-memory directory for executor tests: it records every call, can fail on demand, and can
/// block inside ApplyAsync until released, to test what happens between intent and outcome.
/// </summary>
public sealed class FakeConnector(Provider provider, DirectorySnapshot directory) : IConnector
{
    private readonly ConcurrentDictionary<string, bool> _disabled = new(StringComparer.OrdinalIgnoreCase);

    public Provider Provider => provider;

    public ConcurrentQueue<string> Calls { get; } = new();

    /// <summary>Called at the start of ApplyAsync, e.g. to look at the audit trail or to fail.</summary>
    public Func<ActionRequest, Task>? BeforeApply { get; set; }

    /// <summary>Called once ApplyAsync has changed the state, e.g. to die before the outcome is written.</summary>
    public Func<ActionRequest, Task>? AfterApply { get; set; }

    /// <summary>Runs inside the directory call with the token the executor gave it, as an HTTP or LDAP call would honour it.</summary>
    public Func<ActionRequest, CancellationToken, Task>? DuringApply { get; set; }

    /// <summary>Called at the start of VerifyAsync (the executor's read-back), e.g. to fail as a directory that went away.</summary>
    public Func<ActionRequest, Task>? BeforeVerify { get; set; }

    /// <summary>Accounts whose change ApplyAsync made and no <see cref="MakeDurableAsync"/> has made durable since.</summary>
    public ConcurrentDictionary<string, bool> NotDurable { get; } = new(StringComparer.Ordinal);

    /// <summary>Called at the start of MakeDurableAsync, e.g. to yield so that other work interleaves, or to fail as a disk that refuses the flush.</summary>
    public Func<Task>? BeforeDurable { get; set; }

    /// <summary>Makes every change applied before it was called durable (as one flush of a journal would).</summary>
    public async Task MakeDurableAsync(CancellationToken cancellationToken)
    {
        var pending = NotDurable.Keys.ToList();
        if (BeforeDurable is not null) await BeforeDurable();
        foreach (var id in pending) NotDurable.TryRemove(id, out _);
    }

    public bool IsDisabled(string id) => _disabled.GetValueOrDefault(id, !directory.Users.First(u => u.Id == id).Enabled);

    public Task<IdentityLookup> ResolveAsync(Subject subject, CancellationToken cancellationToken)
    {
        var lookup = directory.Resolve(subject);
        return Task.FromResult(lookup.Identity is { } identity ? IdentityLookup.Found(identity with { Enabled = !IsDisabled(identity.Id) }) : lookup);
    }

    public Task<TargetState> ReadAsync(ActionRequest request, CancellationToken cancellationToken)
    {
        Calls.Enqueue($"read {request.Action.Name} {request.Target.Id}");
        var disabled = IsDisabled(request.Target.Id);
        var done = request.Action.Name switch
        {
            "disable_user" or "deactivate_user" => disabled,
            "enable_user" => !disabled,
            _ => false,
        };
        return Task.FromResult(new TargetState(done, $$"""{"enabled":{{(!disabled ? "true" : "false")}}}"""));
    }

    public async Task ApplyAsync(ActionRequest request, CancellationToken cancellationToken)
    {
        Calls.Enqueue($"apply {request.Action.Name} {request.Target.Id}");
        if (BeforeApply is not null) await BeforeApply(request);
        if (DuringApply is not null) await DuringApply(request, cancellationToken);
        if (request.Action.Name is "disable_user" or "deactivate_user") _disabled[request.Target.Id] = true;
        if (request.Action.Name == "enable_user") _disabled[request.Target.Id] = false;
        NotDurable[request.Target.Id] = true;
        if (AfterApply is not null) await AfterApply(request);
    }

    public async Task<bool> VerifyAsync(ActionRequest request, CancellationToken cancellationToken)
    {
        if (BeforeVerify is not null) await BeforeVerify(request);
        return request.Action.Name switch
        {
            "disable_user" or "deactivate_user" => IsDisabled(request.Target.Id),
            "enable_user" => !IsDisabled(request.Target.Id),
            _ => true,
        };
    }

    public Task RestoreAsync(ActionRequest request, string priorState, CancellationToken cancellationToken)
    {
        Calls.Enqueue($"restore {request.Action.Name} {request.Target.Id}");
        _disabled[request.Target.Id] = !priorState.Contains("\"enabled\":true", StringComparison.Ordinal);
        return Task.CompletedTask;
    }

    /// <summary>The snapshot's privilege graph with the accounts this fake disabled taken out, as a live directory would report it.</summary>
    public Task<CriticalSet> CountCriticalAsync(string groupOrRole, CancellationToken cancellationToken) =>
        Task.FromResult(CriticalSet.From(provider, groupOrRole, directory.Graph(provider).With(
            directory.Users.Where(u => u.Provider == provider && IsDisabled(u.Id)).Select(u => new Identities.Privilege.GraphEdit.Disable(u.Id)))));
}
