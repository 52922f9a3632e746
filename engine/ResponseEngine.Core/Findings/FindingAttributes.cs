using System.Collections;
using System.Collections.Immutable;
using System.Diagnostics.CodeAnalysis;
using System.Text.Json;

namespace ResponseEngine.Findings;

/// <summary>
/// A finding's free facts (its <c>attributes</c> object), read-only. The finding reader keeps the object's UTF-8 text as
/// it was in the file, already checked (JSON syntax, every string valid text), and parses it only when something asks
/// for a fact, once (#23): most findings are never asked (the index passes them by), and reading a million of them
/// should not build a million documents and dictionaries. A key given more than once holds its last value, as the
/// checked reader's dictionary does; a key with a JSON null is present (<see cref="ContainsKey"/>) with a null value.
/// Enumeration is in the object's order of first appearance; sort when the order matters.
/// </summary>
[SuppressMessage("Naming", "CA1710:Identifiers should have correct suffix", Justification = "Named for the finding's 'attributes' field, which it is.")]
public sealed class FindingAttributes : IReadOnlyDictionary<string, JsonElement>
{
    /// <summary>At most this many facts are looked up by a scan; more get a dictionary.</summary>
    private const int ScanLimit = 8;

    private readonly byte[]? _utf8;
    private Table? _table;

    private FindingAttributes(byte[] utf8) => _utf8 = utf8;

    private FindingAttributes(Table table) => _table = table;

    public static FindingAttributes Empty { get; } = new(new Table([]));

    public int Count => Facts.Items.Length;

    public IEnumerable<string> Keys => Facts.Items.Select(item => item.Key);

    public IEnumerable<JsonElement> Values => Facts.Items.Select(item => item.Value);

    public JsonElement this[string key] => TryGetValue(key, out var value) ? value : throw new KeyNotFoundException($"the finding has no attribute '{key}'");

    private Table Facts => _table ?? Parse();

    /// <summary>
    /// Attributes from the UTF-8 text of a JSON object, parsed on first use. The caller has read it whole: its syntax and
    /// every string in it are valid (comments, as a JSON findings file may have them, are skipped).
    /// </summary>
    internal static FindingAttributes FromCheckedUtf8(byte[] utf8) => new(utf8);

    /// <summary>Attributes from key/value pairs (a later pair with the same key replaces the earlier one's value).</summary>
    public static FindingAttributes From(IEnumerable<KeyValuePair<string, JsonElement>> items)
    {
        ArgumentNullException.ThrowIfNull(items);
        var builder = new Builder();
        foreach (var item in items) builder.Put(item.Key, item.Value);
        return builder.Count == 0 ? Empty : new FindingAttributes(builder.ToTable());
    }

    /// <summary>Builders, benchmarks and connectors that assemble attributes as a dictionary keep doing so.</summary>
    [SuppressMessage("Usage", "CA2225:Operator overloads have named alternates", Justification = "From is the named alternate.")]
    public static implicit operator FindingAttributes(ImmutableDictionary<string, JsonElement> items) => From(items);

    public bool ContainsKey(string key) => TryGetValue(key, out _);

    public bool TryGetValue(string key, out JsonElement value)
    {
        ArgumentNullException.ThrowIfNull(key);
        var facts = Facts;
        if (facts.Lookup is { } lookup) return lookup.TryGetValue(key, out value);
        foreach (var item in facts.Items)
        {
            if (string.Equals(item.Key, key, StringComparison.Ordinal))
            {
                value = item.Value;
                return true;
            }
        }

        value = default;
        return false;
    }

    public IEnumerator<KeyValuePair<string, JsonElement>> GetEnumerator() => ((IEnumerable<KeyValuePair<string, JsonElement>>)Facts.Items).GetEnumerator();

    IEnumerator IEnumerable.GetEnumerator() => GetEnumerator();

    private Table Parse()
    {
        var reader = new Utf8JsonReader(_utf8, new JsonReaderOptions { CommentHandling = JsonCommentHandling.Skip });
        var builder = new Builder();
        foreach (var property in JsonElement.ParseValue(ref reader).EnumerateObject()) builder.Put(property.Name, property.Value);

        // Racing readers build equal tables; the first one published is the one every reader uses.
        return Interlocked.CompareExchange(ref _table, builder.ToTable(), null) ?? _table;
    }

    /// <summary>Pairs in order of first appearance, a repeated key's value replaced; indexed once there are many (a hostile object may have a great many keys).</summary>
    private sealed class Builder
    {
        private readonly List<KeyValuePair<string, JsonElement>> _items = [];
        private Dictionary<string, int>? _index;

        public int Count => _items.Count;

        public void Put(string key, JsonElement value)
        {
            ArgumentNullException.ThrowIfNull(key);
            var at = Find(key);
            if (at >= 0)
            {
                _items[at] = new(key, value);
                return;
            }

            _index?.Add(key, _items.Count);
            _items.Add(new(key, value));
            if (_index is null && _items.Count > ScanLimit)
            {
                _index = new(StringComparer.Ordinal);
                for (var i = 0; i < _items.Count; i++) _index[_items[i].Key] = i;
            }
        }

        public Table ToTable() => new([.. _items]);

        private int Find(string key)
        {
            if (_index is not null) return _index.TryGetValue(key, out var at) ? at : -1;
            for (var i = 0; i < _items.Count; i++)
            {
                if (string.Equals(_items[i].Key, key, StringComparison.Ordinal)) return i;
            }

            return -1;
        }
    }

    private sealed class Table(KeyValuePair<string, JsonElement>[] items)
    {
        public KeyValuePair<string, JsonElement>[] Items { get; } = items;

        public Dictionary<string, JsonElement>? Lookup { get; } = items.Length > ScanLimit ? new(items, StringComparer.Ordinal) : null;
    }
}
