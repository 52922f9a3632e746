using System.Globalization;
using System.Text;
using System.Text.Json.Nodes;

namespace ResponseEngine.TestKit.Graph;

/// <summary>
/// The part of OData <c>$filter</c> the emulator understands: <c>prop op literal</c> comparisons (eq, ne, gt, ge, lt, le)
/// joined by and/or, with parentheses and not; string literals in single quotes with a quote doubled (<c>'o''brien'</c>),
/// booleans, null, numbers and ISO 8601 date-times; property paths with '/'. Anything else is a 400, as in Graph, so a
/// client that forgets to escape a quote gets an error rather than a match.
/// </summary>
public sealed class ODataFilter
{
    private readonly Func<Func<string, JsonNode?>, bool> _predicate;

    private ODataFilter(Func<Func<string, JsonNode?>, bool> predicate) => _predicate = predicate;

    /// <summary>Whether an entity matches; <paramref name="property"/> reads a property (path) of it.</summary>
    public bool Matches(Func<string, JsonNode?> property) => _predicate(property);

    /// <summary>Parses a filter; throws <see cref="FormatException"/> with Graph's wording for what it cannot parse.</summary>
    public static ODataFilter Parse(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        var parser = new Parser(Tokenize(text));
        var expression = parser.Or();
        if (!parser.AtEnd) throw new FormatException($"Invalid filter clause: syntax error at position {parser.Position} in '{text}'.");
        return new ODataFilter(expression);
    }

    /// <summary>Writes a value as an OData string literal (quotes doubled), for tests that build filters.</summary>
    public static string Quote(string value) => "'" + value.Replace("'", "''", StringComparison.Ordinal) + "'";

    private static List<Token> Tokenize(string text)
    {
        var tokens = new List<Token>();
        var i = 0;
        while (i < text.Length)
        {
            var c = text[i];
            if (char.IsWhiteSpace(c))
            {
                i++;
            }
            else if (c is '(' or ')')
            {
                tokens.Add(new Token(c.ToString(), TokenKind.Punct, i));
                i++;
            }
            else if (c == '\'')
            {
                var value = new StringBuilder();
                var start = i++;
                while (true)
                {
                    if (i >= text.Length) throw new FormatException($"Invalid filter clause: unterminated string literal at position {start}.");
                    if (text[i] == '\'')
                    {
                        if (i + 1 < text.Length && text[i + 1] == '\'')
                        {
                            value.Append('\'');
                            i += 2;
                            continue;
                        }

                        i++;
                        break;
                    }

                    value.Append(text[i++]);
                }

                tokens.Add(new Token(value.ToString(), TokenKind.String, start));
            }
            else
            {
                var start = i;
                while (i < text.Length && !char.IsWhiteSpace(text[i]) && text[i] is not ('(' or ')' or '\'')) i++;
                tokens.Add(new Token(text[start..i], TokenKind.Word, start));
            }
        }

        return tokens;
    }

    private enum TokenKind
    {
        Word,
        String,
        Punct,
    }

    private sealed record Token(string Text, TokenKind Kind, int Position);

    private sealed class Parser(List<Token> tokens)
    {
        private int _index;

        public bool AtEnd => _index >= tokens.Count;

        public int Position => AtEnd ? -1 : tokens[_index].Position;

        public Func<Func<string, JsonNode?>, bool> Or()
        {
            var left = And();
            while (Accept("or"))
            {
                var l = left;
                var r = And();
                left = p => l(p) || r(p);
            }

            return left;
        }

        private Func<Func<string, JsonNode?>, bool> And()
        {
            var left = Unary();
            while (Accept("and"))
            {
                var l = left;
                var r = Unary();
                left = p => l(p) && r(p);
            }

            return left;
        }

        private Func<Func<string, JsonNode?>, bool> Unary()
        {
            if (Accept("not"))
            {
                var inner = Unary();
                return p => !inner(p);
            }

            if (AcceptPunct("("))
            {
                var inner = Or();
                if (!AcceptPunct(")")) throw Error("')' expected");
                return inner;
            }

            return Comparison();
        }

        private Func<Func<string, JsonNode?>, bool> Comparison()
        {
            var property = Next();
            if (property.Kind != TokenKind.Word) throw Error("a property name expected", property);
            var op = Next();
            if (op.Kind != TokenKind.Word || op.Text is not ("eq" or "ne" or "gt" or "ge" or "lt" or "le")) throw Error("a comparison operator expected", op);
            var literal = Next();
            var value = Literal(literal);
            var path = property.Text;
            return p => Compare(p(path), op.Text, value);
        }

        private static object? Literal(Token token)
        {
            if (token.Kind == TokenKind.String) return token.Text;
            if (token.Kind != TokenKind.Word) throw Error("a literal expected", token);
            if (token.Text == "null") return null;
            if (token.Text is "true" or "false") return token.Text == "true";
            if (DateTimeOffset.TryParse(token.Text, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal, out var at) && token.Text.Contains('T', StringComparison.Ordinal)) return at;
            if (double.TryParse(token.Text, NumberStyles.Float, CultureInfo.InvariantCulture, out var number)) return number;
            throw Error($"'{token.Text}' is not a literal (strings are quoted: '...')", token);
        }

        private static bool Compare(JsonNode? node, string op, object? literal)
        {
            if (node is JsonArray array) return op == "eq" && array.Any(item => Compare(item, "eq", literal));
            int? order = (node, literal) switch
            {
                (null, null) => 0,
                (null, _) or (_, null) => null,
                (_, string s) => string.Compare(node.GetValue<string>(), s, StringComparison.OrdinalIgnoreCase),
                (_, bool b) => node.GetValue<bool>() == b ? 0 : null,
                (_, DateTimeOffset d) => DateTimeOffset.Parse(node.GetValue<string>(), CultureInfo.InvariantCulture).CompareTo(d),
                (_, double n) => node.GetValue<double>().CompareTo(n),
                _ => null,
            };
            return op switch
            {
                "eq" => order == 0,
                "ne" => order != 0,
                "gt" => order > 0,
                "ge" => order >= 0,
                "lt" => order < 0,
                "le" => order <= 0,
                _ => false,
            };
        }

        private Token Next() => !AtEnd ? tokens[_index++] : throw new FormatException("Invalid filter clause: the expression ends too early.");

        private bool Accept(string word)
        {
            if (AtEnd || tokens[_index].Kind != TokenKind.Word || !string.Equals(tokens[_index].Text, word, StringComparison.Ordinal)) return false;
            _index++;
            return true;
        }

        private bool AcceptPunct(string punct)
        {
            if (AtEnd || tokens[_index].Kind != TokenKind.Punct || tokens[_index].Text != punct) return false;
            _index++;
            return true;
        }

        private FormatException Error(string what) => new($"Invalid filter clause: {what} at position {Position}.");

        private static FormatException Error(string what, Token token) => new($"Invalid filter clause: {what} at position {token.Position}.");
    }
}
