using ResponseEngine.Execution;
using ResponseEngine.Planning;

namespace ResponseEngine.Guards;

/// <summary>A guard that needs live state: the audit store, a connector, or what this run already did.</summary>
public interface IExecutionGuard
{
    string Name { get; }

    Task<Decision> CheckAsync(Decision decision, RunContext run, CancellationToken cancellationToken);
}

/// <summary>Runs a state-free guard in the executor's pipeline.</summary>
public sealed class StaticGuard(IGuard guard) : IExecutionGuard
{
    public string Name => guard.Name;

    public Task<Decision> CheckAsync(Decision decision, RunContext run, CancellationToken cancellationToken) =>
        Task.FromResult(guard.Check(decision, new GuardContext(run.Now, run.Options.Privileged)));
}
