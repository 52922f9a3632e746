using ResponseEngine.Audit;

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

    /// <summary>
    /// Whether an exception means the audit store did not answer — a failed write, or a read that could not open or query
    /// the database (a provider's DbException: SQLite's file gone, SQL Server away). Execution stops on it (fail closed)
    /// and resumes when the store answers; it must never end the service.
    /// </summary>
    public static bool IsStoreFault(Exception e) =>
        e is AuditWriteException or System.Data.Common.DbException or TimeoutException or IOException or InvalidOperationException;

    public void Ok()
    {
        lock (_lock) _state = (true, null, null);
    }

    public void Fault(string error, DateTimeOffset at)
    {
        lock (_lock) _state = (false, error, _state.Since ?? at);
    }
}
