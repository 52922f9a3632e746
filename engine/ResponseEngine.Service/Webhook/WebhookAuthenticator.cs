using System.Collections.Concurrent;
using System.Globalization;
using System.Security.Cryptography;
using System.Text;

namespace ResponseEngine.Service.Webhook;

/// <summary>
/// Decides whether a webhook post may be read: an HMAC-SHA256 signature over "timestamp.body" with the shared secret,
/// whose timestamp is within the replay window and whose signature was not seen before in it; or a bearer token. The
/// comparison is constant-time. Nothing is parsed or stored before this says yes.
/// </summary>
public sealed class WebhookAuthenticator(string? secret, string? token, TimeSpan window, TimeProvider time)
{
    public const string SignatureHeader = "X-Respond-Signature";
    public const string TimestampHeader = "X-Respond-Timestamp";

    private readonly byte[]? _secret = string.IsNullOrEmpty(secret) ? null : Encoding.UTF8.GetBytes(secret);
    private readonly byte[]? _tokenHash = string.IsNullOrEmpty(token) ? null : SHA256.HashData(Encoding.UTF8.GetBytes(token));
    private readonly ConcurrentDictionary<string, DateTimeOffset> _seen = new(StringComparer.Ordinal);

    /// <summary>The signature a sender puts in <see cref="SignatureHeader"/>: <c>sha256=</c> and the lower-case hex HMAC of "timestamp.body".</summary>
    public static string Sign(string secret, string timestamp, ReadOnlySpan<byte> body)
    {
        var prefix = Encoding.UTF8.GetBytes(timestamp + ".");
        var message = new byte[prefix.Length + body.Length];
        prefix.CopyTo(message, 0);
        body.CopyTo(message.AsSpan(prefix.Length));
        return "sha256=" + Convert.ToHexStringLower(HMACSHA256.HashData(Encoding.UTF8.GetBytes(secret), message));
    }

    /// <summary>Null when the post is authentic, else the reason for the 401 (never the expected value).</summary>
    public string? Check(string? authorization, string? signature, string? timestamp, ReadOnlySpan<byte> body)
    {
        if (authorization is not null && authorization.StartsWith("Bearer ", StringComparison.OrdinalIgnoreCase))
        {
            if (_tokenHash is null) return "bearer tokens are not accepted here; sign the body";
            var presented = SHA256.HashData(Encoding.UTF8.GetBytes(authorization["Bearer ".Length..].Trim()));
            return CryptographicOperations.FixedTimeEquals(presented, _tokenHash) ? null : "the bearer token is not valid";
        }

        if (signature is null) return $"unauthenticated: sign the body ({SignatureHeader}, {TimestampHeader}) or present a bearer token";
        if (_secret is null) return "signed posts are not accepted here; present a bearer token";
        if (timestamp is null || !long.TryParse(timestamp, NumberStyles.None, CultureInfo.InvariantCulture, out var seconds))
        {
            return $"{TimestampHeader} must be the Unix time in seconds";
        }

        var now = time.GetUtcNow();
        DateTimeOffset sent;
        try
        {
            sent = DateTimeOffset.FromUnixTimeSeconds(seconds);
        }
        catch (ArgumentOutOfRangeException)
        {
            return $"{TimestampHeader} is out of range";
        }

        if ((now - sent).Duration() > window) return $"{TimestampHeader} is more than {window.TotalMinutes:0} minutes from the server's time (a replay, or a clock to fix)";

        var expected = Encoding.ASCII.GetBytes(Sign(Encoding.UTF8.GetString(_secret), timestamp, body));
        if (!CryptographicOperations.FixedTimeEquals(Encoding.ASCII.GetBytes(signature.Trim()), expected)) return "the signature does not match the body";

        // A signature is good once: an exact replay inside the window is refused too.
        Sweep(now);
        return _seen.TryAdd(signature.Trim(), sent) ? null : "this signed request was already received (replay)";
    }

    private void Sweep(DateTimeOffset now)
    {
        if (_seen.Count < 1024) return;
        foreach (var (key, sent) in _seen)
        {
            if ((now - sent).Duration() > window) _seen.TryRemove(key, out _);
        }
    }
}
