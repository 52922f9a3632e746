using ResponseEngine.Diagnostics;

namespace ResponseEngine.Policy.Yaml;

/// <summary>
/// Turns the YAML parser's messages ("While parsing a block mapping, did not find expected key") into what a rule author
/// did and how to fix it, at the character that caused it (the tab, the unclosed quote or bracket) rather than where
/// the parser gave up.
/// </summary>
internal static class YamlErrors
{
    /// <summary>The translated diagnostic for a parser message raised at <paramref name="line"/>:<paramref name="column"/> (1-based) in <paramref name="text"/>.</summary>
    public static Diagnostic Translate(string file, string text, int line, int column, string parserMessage)
    {
        var lines = text.Split('\n');
        var message = parserMessage.ToLowerInvariant();
        SourceLocation At(int l, int c) => new(file, Math.Max(1, l), Math.Max(1, c));
        Diagnostic Error(SourceLocation location, string what, string hint) => Diagnostic.Error(DiagnosticCodes.YamlSyntax, location, what, hint);

        if (message.Contains("tab", StringComparison.Ordinal) && IndentingTab(lines) is { } tab)
        {
            return Error(At(tab.Line, tab.Column), "a tab indents this line; YAML indents with spaces only", "replace the tab with spaces (two per level, as in the lines above)");
        }

        if (message.Contains("quoted scalar", StringComparison.Ordinal) && OpenQuote(lines, line, column, message.Contains("single", StringComparison.Ordinal) ? '\'' : '"') is { } quote)
        {
            return Error(At(quote.Line, quote.Column), "this quoted text is not closed", "end it with the same quote on the same line, or remove the quote");
        }

        if (message.Contains("flow sequence", StringComparison.Ordinal) || message.Contains("flow mapping", StringComparison.Ordinal)
            || message.Contains("flow collection", StringComparison.Ordinal))
        {
            return UnclosedBracket(file, lines, line, column);
        }

        if (message.Contains("cannot start any token", StringComparison.Ordinal))
        {
            var c = CharAt(lines, line, column);
            return Error(At(line, column), c is null ? "a value starts with a character YAML reserves" : $"a value cannot start with '{c}' in YAML",
                "quote the value, e.g. when: \"...\" or title: '...'");
        }

        if (message.Contains("invalid mapping", StringComparison.Ordinal) || message.Contains("mapping values are not allowed", StringComparison.Ordinal))
        {
            return Error(At(line, column), "': ' inside a value starts a second key on the same line",
                "quote the whole value, e.g. description: \"note: this rule...\"");
        }

        if (message.Contains("did not find expected key", StringComparison.Ordinal) || message.Contains("did not find expected '-' indicator", StringComparison.Ordinal)
            || message.Contains("block sequence entries are not allowed", StringComparison.Ordinal))
        {
            var content = LineText(lines, line);
            var trimmed = content.TrimStart(' ');
            if (trimmed.Length > 0 && !trimmed.StartsWith('-') && !trimmed.StartsWith('#') && !trimmed.Contains(':', StringComparison.Ordinal))
            {
                return Error(At(line, content.Length - trimmed.Length + 1), "this line has no ':' after its key",
                    "write key: value, or indent it under the key it continues");
            }

            return Error(At(line, content.Length - trimmed.Length + 1), "this line is indented differently from the lines it belongs with",
                "keys of one mapping, and items of one list, start in the same column; indent with spaces");
        }

        if (message.Contains("could not find expected ':'", StringComparison.Ordinal))
        {
            return Error(At(line, column), "a key is not followed by ':'", "write key: value, and quote values that span lines");
        }

        return Error(At(line, column), "the YAML does not parse here",
            "check the indentation (spaces, keys of one mapping in the same column) and quote values that contain ': ', ' #' or start with a symbol");
    }

    /// <summary>The unmatched '[' or '{' before the parser's position, the place to close.</summary>
    public static Diagnostic UnclosedBracket(string file, string[] lines, int line, int column)
    {
        var open = OpenBracket(lines, line, column);
        return Diagnostic.Error(DiagnosticCodes.YamlSyntax, open is { } at ? new SourceLocation(file, at.Line, at.Column) : new SourceLocation(file, Math.Max(1, line), Math.Max(1, column)),
            open is { } b ? $"this '{b.Bracket}' is not closed" : "a '[' or '{' is not closed",
            "close it with ']' or '}' before the next key, or put the value on one line");
    }

    private static (int Line, int Column)? IndentingTab(string[] lines)
    {
        for (var l = 0; l < lines.Length; l++)
        {
            var line = lines[l];
            for (var c = 0; c < line.Length && (line[c] == ' ' || line[c] == '\t' || line[c] == '-'); c++)
            {
                if (line[c] == '\t') return (l + 1, c + 1);
            }
        }

        return null;
    }

    private static (int Line, int Column)? OpenQuote(string[] lines, int line, int column, char quote)
    {
        // The last line at or before the error with an odd number of this quote holds the opening one.
        for (var l = Math.Min(line, lines.Length) - 1; l >= 0; l--)
        {
            var text = l == line - 1 ? lines[l][..Math.Min(lines[l].Length, Math.Max(0, column))] : lines[l];
            if (text.Length == 0 && l != line - 1) continue;
            var count = text.Count(ch => ch == quote);
            if (count % 2 == 1) return (l + 1, text.LastIndexOf(quote) + 1);
        }

        return null;
    }

    private static (int Line, int Column, char Bracket)? OpenBracket(string[] lines, int line, int column)
    {
        var stack = new Stack<(int Line, int Column, char Bracket)>();
        var end = line >= 1 && line <= lines.Length ? line : lines.Length;
        for (var l = 0; l < end; l++)
        {
            var text = lines[l];
            var quote = '\0';
            for (var c = 0; c < text.Length; c++)
            {
                var ch = text[c];
                if (quote != '\0')
                {
                    if (ch == quote) quote = '\0';
                    continue;
                }

                if (ch is '"' or '\'' && (c == 0 || text[c - 1] is ' ' or '[' or '{' or ',' or ':')) quote = ch;
                else if (ch == '#' && (c == 0 || text[c - 1] == ' ')) break;
                else if (ch is '[' or '{') stack.Push((l + 1, c + 1, ch));
                else if (ch is ']' or '}' && stack.Count > 0) stack.Pop();
            }
        }

        return stack.Count > 0 ? stack.Peek() : null;
    }

    private static string LineText(string[] lines, int line) => line >= 1 && line <= lines.Length ? lines[line - 1].TrimEnd('\r') : "";

    private static char? CharAt(string[] lines, int line, int column)
    {
        var text = LineText(lines, line);
        return column >= 1 && column <= text.Length ? text[column - 1] : null;
    }
}
