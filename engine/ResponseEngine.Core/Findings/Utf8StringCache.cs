using System.Text;
using System.Text.Unicode;

namespace ResponseEngine.Findings;

/// <summary>
/// One reader's strings for values that repeat from finding to finding, keyed by their UTF-8 bytes, so a million
/// findings about a thousand accounts hold a thousand names, not a million (#23). Three tables, so that values of many
/// kinds (titles) do not push out values of few (sources, types): labels (source, type), names (the subject's id and
/// name) and titles. Each has a fixed number of slots holding the last value hashed to it: memory stays bounded however
/// many distinct values a stream has, and a value that misses is read as it would be without the cache. Not
/// thread-safe: one per read.
/// </summary>
internal sealed class Utf8StringCache
{
    /// <summary>Values longer than this are not kept (they seldom repeat, and comparing them costs).</summary>
    public const int MaxBytes = 96;

    /// <summary>Sources and types.</summary>
    public Table Labels { get; } = new(256);

    /// <summary>Subjects' ids and names.</summary>
    public Table Names { get; } = new(4096);

    public Table Titles { get; } = new(1024);

    /// <summary>
    /// Slots of strings. An ASCII value is compared with the string itself; any other keeps its bytes alongside (rare:
    /// most ids, names and types are ASCII).
    /// </summary>
    internal sealed class Table(int slots)
    {
        private readonly string?[] _values = new string?[slots];
        private readonly byte[]?[] _bytes = new byte[]?[slots];

        /// <summary>
        /// The string of <paramref name="utf8"/> (a JSON string's unescaped bytes): the cached one when the same bytes were
        /// seen last in its slot; null when the bytes are not valid UTF-8 (which the caller reports as the checked path does).
        /// </summary>
        public string? Get(ReadOnlySpan<byte> utf8)
        {
            if (utf8.Length > MaxBytes) return Decode(utf8);
            var hash = new HashCode();
            hash.AddBytes(utf8);
            var slot = hash.ToHashCode() & (_values.Length - 1);
            if (_values[slot] is { } cached && (_bytes[slot] is { } bytes ? utf8.SequenceEqual(bytes) : Ascii.Equals(utf8, cached))) return cached;
            if (Decode(utf8) is not { } value) return null;
            _values[slot] = value;
            _bytes[slot] = value.Length == utf8.Length ? null : utf8.ToArray();
            return value;
        }

        private static string? Decode(ReadOnlySpan<byte> utf8) => Utf8.IsValid(utf8) ? Encoding.UTF8.GetString(utf8) : null;
    }
}
