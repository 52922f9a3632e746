using ResponseEngine.Audit;
using ResponseEngine.Planning;

namespace ResponseEngine.Execution;

/// <summary>
/// The audit rows of one guard phase, written to the store in one transaction (<see cref="IAuditStore.AppendManyAsync"/>)
/// before the executor releases the guard lock and before any connector is called. While rows wait here the guards see
/// the intents among them through <see cref="RunContext.StagedIntents"/> (rate limits, breaker, in-flight checks count
/// them as if written), and a guard that must write at once (the breaker opening) goes through
/// <see cref="RunContext.AppendAsync"/>, which writes the staged rows first so the trail keeps the order of decisions.
/// </summary>
internal sealed class GuardBatch(IAuditStore store)
{
    private readonly List<AuditEntry> _unwritten = [];
    private readonly List<Decision> _intents = [];
    private readonly List<AuditRecord> _written = [];

    /// <summary>Decisions passed in this phase whose intent rows are staged and not yet in the store.</summary>
    public IReadOnlyList<Decision> Intents => _intents;

    /// <summary>Stages a row; <paramref name="intentFor"/> is the decision when the row is its intent. Returns the row's position in the batch.</summary>
    public int Stage(AuditEntry entry, Decision? intentFor)
    {
        _unwritten.Add(entry);
        if (intentFor is not null) _intents.Add(intentFor);
        return _written.Count + _unwritten.Count - 1;
    }

    /// <summary>The stored row at a position <see cref="Stage"/> returned; only after <see cref="FlushAsync"/>.</summary>
    public AuditRecord Record(int position) => _written[position];

    /// <summary>Writes every staged row in one transaction: all durable when this returns, none when it throws.</summary>
    public async Task FlushAsync(CancellationToken cancellationToken)
    {
        if (_unwritten.Count == 0) return;
        var records = await store.AppendManyAsync([.. _unwritten], cancellationToken);
        if (records.Count != _unwritten.Count)
        {
            throw new AuditWriteException($"the audit store stored {records.Count} of {_unwritten.Count} rows of one transaction");
        }

        _written.AddRange(records);
        _unwritten.Clear();
        _intents.Clear();
    }

    /// <summary>Writes the staged rows and then <paramref name="entry"/>, in one transaction, and returns the entry's row.</summary>
    public async Task<AuditRecord> AppendAfterStagedAsync(AuditEntry entry, CancellationToken cancellationToken)
    {
        var position = Stage(entry, null);
        await FlushAsync(cancellationToken);
        return _written[position];
    }
}
