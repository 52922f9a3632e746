using ResponseEngine.Diagnostics;
using ResponseEngine.Policy.Yaml;

namespace ResponseEngine.Policy.Rules;

/// <summary>Maps a character offset inside a YAML scalar's value back to a line and column of the file, for any scalar style.</summary>
internal sealed class ScalarLocator
{
    private readonly string _fileText;
    private readonly List<int> _lineStarts = [0];

    public ScalarLocator(string fileText)
    {
        _fileText = fileText;
        for (var i = 0; i < fileText.Length; i++)
        {
            if (fileText[i] == '\n') _lineStarts.Add(i + 1);
        }
    }

    public Func<int, SourceLocation> For(YScalar scalar)
    {
        var start = Offset(scalar.Location);
        return offset =>
        {
            offset = Math.Clamp(offset, 0, scalar.Value.Length);
            if (scalar.Value.IndexOf('\n') < 0 && scalar.IsPlain)
            {
                return scalar.Location with { Column = scalar.Location.Column + offset };
            }

            // Other styles (quoted, block, folded) change the text between file and value: find the token in the file.
            var end = offset;
            while (end < scalar.Value.Length && end - offset < 24 && !char.IsWhiteSpace(scalar.Value[end])) end++;
            var needle = scalar.Value[offset..end];
            if (needle.Length == 0) return scalar.Location;
            var precedingSame = CountOccurrences(scalar.Value[..offset], needle);
            var index = start;
            for (var n = 0; n <= precedingSame; n++)
            {
                index = _fileText.IndexOf(needle, n == 0 ? start : index + 1, StringComparison.Ordinal);
                if (index < 0) return scalar.Location;
            }

            return ToLocation(scalar.Location.File, index);
        };
    }

    private static int CountOccurrences(string text, string needle)
    {
        var count = 0;
        var index = text.IndexOf(needle, StringComparison.Ordinal);
        while (index >= 0)
        {
            count++;
            index = text.IndexOf(needle, index + 1, StringComparison.Ordinal);
        }

        return count;
    }

    private int Offset(SourceLocation location)
    {
        var line = Math.Clamp(location.Line - 1, 0, _lineStarts.Count - 1);
        return Math.Min(_fileText.Length, _lineStarts[line] + Math.Max(0, location.Column - 1));
    }

    private SourceLocation ToLocation(string file, int offset)
    {
        var line = _lineStarts.BinarySearch(offset);
        if (line < 0) line = ~line - 1;
        return new SourceLocation(file, line + 1, offset - _lineStarts[line] + 1);
    }
}
