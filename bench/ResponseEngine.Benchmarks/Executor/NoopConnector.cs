using System.Collections.Immutable;
using ResponseEngine.Execution;
using ResponseEngine.Findings;
using ResponseEngine.Identities;

namespace ResponseEngine.Benchmarks.Executor;

/// <summary>
/// A connector that costs nothing: resolves from an in-memory snapshot, reads every target as "not done yet", applies
/// nothing and verifies true. What the executor spends around it is guard and audit overhead.
/// </summary>
public sealed class NoopConnector(Provider provider, DirectorySnapshot directory) : IConnector
{
    private static readonly Task<TargetState> NotDone = Task.FromResult(new TargetState(false, """{"enabled":true}"""));
    private static readonly Task<bool> Verified = Task.FromResult(true);

    public Provider Provider => provider;

    public static IReadOnlyDictionary<Provider, IConnector> For(DirectorySnapshot directory) =>
        Providers.All.ToDictionary(p => p, p => (IConnector)new NoopConnector(p, directory));

    public Task<IdentityLookup> ResolveAsync(Subject subject, CancellationToken cancellationToken) => Task.FromResult(directory.Resolve(subject));

    public Task<TargetState> ReadAsync(ActionRequest request, CancellationToken cancellationToken) => NotDone;

    public Task ApplyAsync(ActionRequest request, CancellationToken cancellationToken) => Task.CompletedTask;

    public Task<bool> VerifyAsync(ActionRequest request, CancellationToken cancellationToken) => Verified;

    public Task RestoreAsync(ActionRequest request, string priorState, CancellationToken cancellationToken) => Task.CompletedTask;

    public Task<CriticalSet> CountCriticalAsync(string groupOrRole, CancellationToken cancellationToken)
    {
        var holders = directory.Users.Where(u => u.Provider == provider && u.Enabled && (u.IsMemberOf(groupOrRole) || u.HasRole(groupOrRole))).Select(u => u.Id);
        return Task.FromResult(new CriticalSet(provider, groupOrRole, [.. holders]));
    }
}
