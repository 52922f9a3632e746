using System.Globalization;
using System.Text;

namespace ResponseEngine.Connectors.ActiveDirectory.Ldap;

/// <summary>
/// Escaping for values that come from findings and rules: a name like <c>*)(objectClass=*</c> must match nothing, never
/// widen a search or name another object.
/// </summary>
public static class LdapEscape
{
    /// <summary>An assertion value for a search filter (RFC 4515 section 3): <c>* ( ) \ NUL</c> become <c>\2a \28 \29 \5c \00</c>.</summary>
    public static string FilterValue(string value)
    {
        ArgumentNullException.ThrowIfNull(value);
        var builder = new StringBuilder(value.Length + 8);
        foreach (var c in value)
        {
            switch (c)
            {
                case '\\': builder.Append(@"\5c"); break;
                case '*': builder.Append(@"\2a"); break;
                case '(': builder.Append(@"\28"); break;
                case ')': builder.Append(@"\29"); break;
                case '\0': builder.Append(@"\00"); break;
                default: builder.Append(c); break; // non-ASCII goes as UTF-8, which RFC 4515 allows unescaped
            }
        }

        return builder.ToString();
    }

    /// <summary>A binary assertion value (objectGUID, objectSid): every byte as <c>\hh</c>.</summary>
    public static string FilterBytes(ReadOnlySpan<byte> value)
    {
        var builder = new StringBuilder(value.Length * 3);
        foreach (var b in value) builder.Append('\\').Append(b.ToString("x2", CultureInfo.InvariantCulture));
        return builder.ToString();
    }

    /// <summary>
    /// An attribute value inside a distinguished name (RFC 4514 section 2.4): <c>" + , ; &lt; &gt; \ =</c> escaped with a
    /// backslash, a leading space or <c>#</c> and a trailing space escaped, NUL as <c>\00</c>.
    /// </summary>
    public static string DnValue(string value)
    {
        ArgumentNullException.ThrowIfNull(value);
        if (value.Length == 0) return value;
        var builder = new StringBuilder(value.Length + 8);
        for (var i = 0; i < value.Length; i++)
        {
            var c = value[i];
            switch (c)
            {
                case '"' or '+' or ',' or ';' or '<' or '>' or '\\' or '=':
                    builder.Append('\\').Append(c);
                    break;
                case '\0':
                    builder.Append(@"\00");
                    break;
                case ' ' when i == 0 || i == value.Length - 1:
                    builder.Append(@"\ ");
                    break;
                case '#' when i == 0:
                    builder.Append(@"\#");
                    break;
                default:
                    builder.Append(c);
                    break;
            }
        }

        return builder.ToString();
    }

    /// <summary>One relative distinguished name, e.g. <c>CN=Smith\, John</c>.</summary>
    public static string Rdn(string attribute, string value)
    {
        ArgumentException.ThrowIfNullOrEmpty(attribute);
        if (!attribute.All(c => char.IsAsciiLetterOrDigit(c) || c == '-')) throw new ArgumentException($"'{attribute}' is not an attribute type", nameof(attribute));
        return attribute + "=" + DnValue(value);
    }
}
