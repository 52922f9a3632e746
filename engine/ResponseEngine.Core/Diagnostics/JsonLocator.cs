using System.Text;
using System.Text.Json;

namespace ResponseEngine.Diagnostics;

/// <summary>Finds the line and column of a JSON value by its path (e.g. <c>users/3/groups</c>), for diagnostics on JSON input.</summary>
public sealed class JsonLocator
{
    private readonly string _file;
    private readonly byte[] _bytes;
    private Dictionary<string, long>? _offsets;
    private List<int>? _lineStarts;

    public JsonLocator(string file, byte[] bytes)
    {
        _file = file;
        _bytes = bytes;
    }

    public SourceLocation Locate(string path)
    {
        _offsets ??= Index();
        while (!_offsets.ContainsKey(path) && path.Length > 0)
        {
            var cut = path.LastIndexOf('/');
            path = cut < 0 ? "" : path[..cut];
        }

        return _offsets.TryGetValue(path, out var offset) ? ToLocation(offset) : new SourceLocation(_file, 1, 1);
    }

    private SourceLocation ToLocation(long offset)
    {
        if (_lineStarts is null)
        {
            _lineStarts = [0];
            for (var i = 0; i < _bytes.Length; i++)
            {
                if (_bytes[i] == '\n') _lineStarts.Add(i + 1);
            }
        }

        var index = _lineStarts.BinarySearch((int)offset);
        if (index < 0) index = ~index - 1;
        var column = Encoding.UTF8.GetCharCount(_bytes, _lineStarts[index], (int)offset - _lineStarts[index]) + 1;
        return new SourceLocation(_file, index + 1, column);
    }

    private Dictionary<string, long> Index()
    {
        var offsets = new Dictionary<string, long>(StringComparer.Ordinal);
        var reader = new Utf8JsonReader(_bytes, new JsonReaderOptions { CommentHandling = JsonCommentHandling.Skip });
        var frames = new Stack<Frame>();
        string? property = null;
        try
        {
            while (reader.Read())
            {
                if (reader.TokenType == JsonTokenType.PropertyName)
                {
                    // A property is located at its name, where a reader looks for a misspelt key.
                    property = reader.GetString();
                    var parentPath = frames.Count > 0 ? frames.Peek().Path : "";
                    offsets.TryAdd(parentPath.Length == 0 ? property ?? "" : parentPath + "/" + property, reader.TokenStartIndex);
                    continue;
                }

                if (reader.TokenType is JsonTokenType.EndObject or JsonTokenType.EndArray)
                {
                    frames.Pop();
                    if (frames.Count > 0 && frames.Peek().IsArray) frames.Peek().Index++;
                    continue;
                }

                var key = "";
                if (frames.Count > 0)
                {
                    var parent = frames.Peek();
                    var segment = parent.IsArray ? parent.Index.ToString(System.Globalization.CultureInfo.InvariantCulture) : property ?? "";
                    key = parent.Path.Length == 0 ? segment : parent.Path + "/" + segment;
                }

                property = null;
                offsets.TryAdd(key, reader.TokenStartIndex);
                if (reader.TokenType is JsonTokenType.StartObject or JsonTokenType.StartArray)
                {
                    frames.Push(new Frame(key, reader.TokenType == JsonTokenType.StartArray));
                }
                else if (frames.Count > 0 && frames.Peek().IsArray)
                {
                    frames.Peek().Index++;
                }
            }
        }
        catch (Exception e) when (e is JsonException or InvalidOperationException)
        {
            // A syntax error (or a name that is not valid text) is reported by the reader itself; what was indexed so far still helps.
        }

        return offsets;
    }

    private sealed class Frame(string path, bool isArray)
    {
        public string Path { get; } = path;

        public bool IsArray { get; } = isArray;

        public int Index { get; set; }
    }
}
