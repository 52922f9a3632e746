namespace ResponseEngine.Service.Processing;

/// <summary>Whether the audit store answered the last time the service used it; /readyz reports it and execution stops while it does not.</summary>
public sealed class StoreHealth
{
    private readonly Lock _lock = new();
    private (bool Reachable, string? Error, DateTimeOffset? Since) _state = (true, null, null);

    public (bool Reachable, string? Error, DateTimeOffset? Since) State
    {
        get
        {
            lock (_lock) return _state;
        }
    }

    public void Ok()
    {
        lock (_lock) _state = (true, null, null);
    }

    public void Fault(string error, DateTimeOffset at)
    {
        lock (_lock) _state = (false, error, _state.Since ?? at);
    }
}
