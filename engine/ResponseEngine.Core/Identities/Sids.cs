using System.Buffers.Binary;
using System.Globalization;
using System.Text;

namespace ResponseEngine.Identities;

/// <summary>
/// Windows security identifiers (objectSid) as text (<c>S-1-5-21-…</c>) and as the binary form LDAP stores: Defender
/// names an on-premises account by its SID, and the AD connector and snapshots must find the account by it.
/// </summary>
public static class Sids
{
    /// <summary>Parses <c>S-1-&lt;authority&gt;-&lt;sub&gt;…</c> (1 to 15 sub-authorities) into the binary form; false for anything else.</summary>
    public static bool TryParse(string? text, out byte[] binary)
    {
        binary = [];
        if (text is null || !text.StartsWith("S-1-", StringComparison.OrdinalIgnoreCase)) return false;
        var parts = text[4..].Split('-');
        if (parts.Length < 2 || parts.Length > 16) return false;
        if (!ulong.TryParse(parts[0], NumberStyles.None, CultureInfo.InvariantCulture, out var authority) || authority > 0xFFFF_FFFF_FFFF) return false;
        var bytes = new byte[8 + (4 * (parts.Length - 1))];
        bytes[0] = 1;
        bytes[1] = (byte)(parts.Length - 1);
        for (var i = 0; i < 6; i++) bytes[2 + i] = (byte)(authority >> (8 * (5 - i)));
        for (var i = 1; i < parts.Length; i++)
        {
            if (!uint.TryParse(parts[i], NumberStyles.None, CultureInfo.InvariantCulture, out var sub)) return false;
            BinaryPrimitives.WriteUInt32LittleEndian(bytes.AsSpan(8 + (4 * (i - 1))), sub);
        }

        binary = bytes;
        return true;
    }

    /// <summary>The text form of a binary SID, or null when the bytes are not one.</summary>
    public static string? ToText(byte[]? binary)
    {
        if (binary is not { Length: >= 8 } || binary[0] != 1 || binary.Length != 8 + (4 * binary[1])) return null;
        ulong authority = 0;
        for (var i = 0; i < 6; i++) authority = (authority << 8) | binary[2 + i];
        var text = new StringBuilder("S-1-").Append(authority.ToString(CultureInfo.InvariantCulture));
        for (var i = 0; i < binary[1]; i++)
        {
            text.Append('-').Append(BinaryPrimitives.ReadUInt32LittleEndian(binary.AsSpan(8 + (4 * i))).ToString(CultureInfo.InvariantCulture));
        }

        return text.ToString();
    }

    /// <summary>A SID in its canonical text form (upper-case S, no leading zeros), or null when it is not one.</summary>
    public static string? Normalize(string? text) => TryParse(text, out var binary) ? ToText(binary) : null;
}
