namespace ResponseEngine.Audit;

/// <summary>
/// Walks an audit trail row by row in sequence order and reports the first gap, broken link or altered row;
/// every store reads its rows its own way and hands them here, so the rule is written once.
/// </summary>
public sealed class AuditChainVerifier
{
    private long _expected = 1;
    private string _previousHash = AuditRecord.GenesisHash;

    /// <summary>Rows verified so far; the next page of rows starts after this sequence number.</summary>
    public long Checked => _expected - 1;

    /// <summary>Checks the next row; returns the failure, or null when it links to the one before.</summary>
    public ChainVerification? Check(long sequence, Func<AuditRecord> read)
    {
        if (sequence != _expected)
        {
            return new ChainVerification(false, Checked, _expected, $"row {_expected} is missing: the next row is {sequence}");
        }

        AuditRecord record;
        try
        {
            record = read();
        }
        catch (FormatException ex)
        {
            return new ChainVerification(false, Checked + 1, sequence, $"row {sequence} cannot be read: {ex.Message}");
        }

        // Fixed-width columns (SQL Server CHAR) pad with spaces; a hash never contains one.
        var hash = record.Hash.Trim();
        if (record.PreviousHash.Trim() != _previousHash)
        {
            return new ChainVerification(false, Checked + 1, sequence, $"row {sequence} does not link to the row before it");
        }

        if (AuditRecord.ComputeHash(record.Sequence, record.RecordedAt, record.Entry, _previousHash) != hash)
        {
            return new ChainVerification(false, Checked + 1, sequence, $"row {sequence} was changed after it was written: its hash does not match its contents");
        }

        _previousHash = hash;
        _expected++;
        return null;
    }

    public ChainVerification Intact() => new(true, Checked, null, null);
}
