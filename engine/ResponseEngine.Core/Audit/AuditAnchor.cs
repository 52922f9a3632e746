using System.Globalization;
using System.Security.Cryptography;
using System.Text;

namespace ResponseEngine.Audit;

/// <summary>
/// The signed tail of the trail: the last sequence and its hash, with an HMAC-SHA256 under the audit key. The hash chain
/// alone cannot show that rows were cut off the end (the shorter chain is still a valid chain); the anchor can, to
/// anyone holding the key, because someone with write access to the database but not the key cannot sign another tail.
/// </summary>
public sealed record AuditAnchor(long Sequence, string Hash, string KeyId, string Mac);

/// <summary>The audit key's file or variable is unusable: a configuration error, reported before anything runs.</summary>
public sealed class AuditKeyException(string message) : Exception(message)
{
    public AuditKeyException()
        : this("the audit key is unusable")
    {
    }

    public AuditKeyException(string message, Exception inner)
        : this(message + ": " + inner.Message)
    {
    }
}

/// <summary>
/// The secret that signs the audit anchor. Read from RESPOND_AUDIT_KEY_FILE (a file holding the key: keep it outside
/// the database's reach) or RESPOND_AUDIT_KEY; never from respond.yaml, never printed: only its <see cref="KeyId"/>,
/// a fingerprint, is shown and stored.
/// </summary>
public sealed class AuditAnchorKey
{
    public const string FileVariable = "RESPOND_AUDIT_KEY_FILE";
    public const string Variable = "RESPOND_AUDIT_KEY";
    public const int MinimumBytes = 32;

    private readonly byte[] _key;

    public AuditAnchorKey(byte[] key)
    {
        ArgumentNullException.ThrowIfNull(key);
        if (key.Length < MinimumBytes) throw new AuditKeyException($"the audit key has {key.Length} bytes; it needs at least {MinimumBytes} (e.g. `openssl rand -base64 48`)");
        _key = [.. key];
        KeyId = Convert.ToHexStringLower(SHA256.HashData([.. "respond-audit-key-id\n"u8, .. _key]))[..16];
    }

    /// <summary>A fingerprint of the key (not the key): tells which key signed an anchor.</summary>
    public string KeyId { get; }

    /// <summary>The key from the environment, or null when neither variable is set.</summary>
    public static AuditAnchorKey? FromEnvironment(Func<string, string?> environment)
    {
        ArgumentNullException.ThrowIfNull(environment);
        if (environment(FileVariable) is { Length: > 0 } file)
        {
            string text;
            try
            {
                text = File.ReadAllText(file);
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                throw new AuditKeyException($"{FileVariable}: cannot read the audit key file '{file}': {e.Message}");
            }

            return new AuditAnchorKey(Encoding.UTF8.GetBytes(text.TrimEnd('\r', '\n')));
        }

        return environment(Variable) is { Length: > 0 } value ? new AuditAnchorKey(Encoding.UTF8.GetBytes(value)) : null;
    }

    /// <summary>The anchor for a tail: signs sequence and hash together, so neither can be swapped.</summary>
    public AuditAnchor Sign(long sequence, string hash) => new(sequence, hash, KeyId, Mac(sequence, hash));

    /// <summary>Whether the anchor was signed with this key and is unchanged.</summary>
    public bool Signed(AuditAnchor anchor)
    {
        ArgumentNullException.ThrowIfNull(anchor);
        var expected = Encoding.ASCII.GetBytes(Mac(anchor.Sequence, anchor.Hash.Trim()));
        var actual = Encoding.ASCII.GetBytes(anchor.Mac.Trim());
        return anchor.KeyId.Trim() == KeyId && CryptographicOperations.FixedTimeEquals(expected, actual);
    }

    private string Mac(long sequence, string hash) =>
        Convert.ToHexStringLower(HMACSHA256.HashData(_key, Encoding.UTF8.GetBytes(string.Create(CultureInfo.InvariantCulture, $"respond-audit-anchor-v1\n{sequence}\n{hash}"))));
}

/// <summary>An audit store that keeps a signed anchor of its tail, updated in the same transaction as every append.</summary>
public interface IAnchoredAuditStore
{
    /// <summary>The key to sign with; null keeps the anchor as it is (appends then leave rows beyond it unanchored).</summary>
    AuditAnchorKey? AnchorKey { get; set; }

    /// <summary>The stored anchor, or null when none was ever written.</summary>
    Task<AuditAnchor?> ReadAnchorAsync(CancellationToken cancellationToken);
}

/// <summary>The anchor compared with the trail: whether the tail is the one the key holder last signed.</summary>
public sealed record AnchorVerification(bool Holds, long? AnchoredSequence, string Message);

/// <summary>Checks a store's anchor against its rows; the rule is written once for every store.</summary>
public static class AuditAnchorVerifier
{
    public static async Task<AnchorVerification> VerifyAsync(IAuditStore store, AuditAnchorKey key, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(store);
        ArgumentNullException.ThrowIfNull(key);
        if (store is not IAnchoredAuditStore anchored) return new AnchorVerification(false, null, "this audit store keeps no anchor");
        var anchor = await anchored.ReadAnchorAsync(cancellationToken);
        var tails = await store.ReadAsync(new AuditQuery { Descending = true, Limit = 1 }, cancellationToken);
        var tail = tails.Count > 0 ? tails[0] : null;
        if (anchor is null)
        {
            return tail is null
                ? new AnchorVerification(true, null, "no rows and no anchor yet")
                : new AnchorVerification(false, null, $"the trail has rows up to #{tail.Sequence} but no anchor: it was removed, or every row was written without the audit key");
        }

        if (anchor.KeyId.Trim() != key.KeyId)
        {
            return new AnchorVerification(false, anchor.Sequence, $"the anchor was signed with another key (id {anchor.KeyId.Trim()}; this key's id is {key.KeyId})");
        }

        if (!key.Signed(anchor))
        {
            return new AnchorVerification(false, anchor.Sequence, $"the anchor (row #{anchor.Sequence}) was altered or forged: its signature does not match");
        }

        if (tail is null || tail.Sequence < anchor.Sequence)
        {
            return new AnchorVerification(false, anchor.Sequence,
                $"the trail was truncated or rolled back: the signed anchor says it reached row #{anchor.Sequence}, but it ends at {(tail is null ? "no row" : $"#{tail.Sequence}")}");
        }

        var rows = await store.ReadAsync(new AuditQuery { AfterSequence = anchor.Sequence - 1, Limit = 1 }, cancellationToken);
        var row = rows.Count > 0 ? rows[0] : null;
        if (row is null || row.Sequence != anchor.Sequence || row.Hash.Trim() != anchor.Hash.Trim())
        {
            return new AnchorVerification(false, anchor.Sequence, $"row #{anchor.Sequence} is not the row the anchor signed: the trail was rolled back and rewritten from there");
        }

        return tail.Sequence > anchor.Sequence
            ? new AnchorVerification(false, anchor.Sequence,
                $"rows #{anchor.Sequence + 1}–#{tail.Sequence} are not covered by the anchor: they were written without the audit key (by a writer not given it, or by hand)")
            : new AnchorVerification(true, anchor.Sequence, $"the signed anchor matches the last row #{anchor.Sequence} (key id {key.KeyId})");
    }
}
