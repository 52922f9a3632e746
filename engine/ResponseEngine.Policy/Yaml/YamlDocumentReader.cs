using System.Collections.Immutable;
using ResponseEngine.Diagnostics;
using YamlDotNet.Core;
using YamlDotNet.Core.Events;

namespace ResponseEngine.Policy.Yaml;

/// <summary>
/// Reads one YAML document into positioned nodes. Rules are data, not programs: anchors, aliases, tags and several
/// documents per file are refused, as are duplicate keys and files past a size bound.
/// </summary>
public static class YamlDocumentReader
{
    public const int MaxBytes = 1024 * 1024;
    public const int MaxDepth = 64;

    public static YNode? Read(string text, string file, DiagnosticBag bag)
    {
        if (text.Length > MaxBytes)
        {
            bag.Error(DiagnosticCodes.FileUnreadable, SourceLocation.FileOnly(file), $"file is larger than {MaxBytes / 1024} KiB", "split it: one rule per file");
            return null;
        }

        var parser = new Parser(new StringReader(text));
        try
        {
            parser.Consume<StreamStart>();
            if (parser.Accept<StreamEnd>(out _))
            {
                return null;
            }

            parser.Consume<DocumentStart>();
            var root = ReadNode(parser, file, bag, 0);
            parser.Consume<DocumentEnd>();
            if (!parser.Accept<StreamEnd>(out _))
            {
                var at = parser.Current?.Start ?? Mark.Empty;
                bag.Error(DiagnosticCodes.UnsupportedYaml, Loc(file, at), "the file holds more than one YAML document", "one rule per file: remove the '---' and what follows, or move it to its own file");
            }

            return root;
        }
        catch (YamlException e) when (e.Message.Contains($"nesting deeper than {MaxDepth}", StringComparison.Ordinal))
        {
            bag.Error(DiagnosticCodes.YamlSyntax, Loc(file, e.Start), $"the YAML nests deeper than {MaxDepth} levels", "a rule needs a few levels at most: flatten it");
            return null;
        }
        catch (YamlException e)
        {
            var at = Loc(file, e.Start);
            bag.Add(YamlErrors.Translate(file, text, at.Line, at.Column, Clean(e.Message)));
            return null;
        }
        catch (InvalidOperationException)
        {
            // YamlDotNet's scanner throws this on some malformed flow collections; the last event it read is the best position.
            var at = Loc(file, parser.Current?.End ?? Mark.Empty);
            bag.Add(YamlErrors.UnclosedBracket(file, text.Split('\n'), at.Line, at.Column));
            return null;
        }
    }

    private static YNode ReadNode(IParser parser, string file, DiagnosticBag bag, int depth)
    {
        if (depth > MaxDepth)
        {
            throw new YamlException(parser.Current!.Start, parser.Current.End, $"nesting deeper than {MaxDepth} levels");
        }

        var current = parser.Current ?? throw new YamlException("unexpected end of document");
        if (current is AnchorAlias alias)
        {
            bag.Error(DiagnosticCodes.UnsupportedYaml, Loc(file, alias.Start), $"YAML alias '*{alias.Value}' is not allowed in rules", "write the value out in full");
            parser.MoveNext();
            return new YScalar(Loc(file, alias.Start), "", ScalarStyle.Plain);
        }

        if (current is NodeEvent node)
        {
            if (!node.Anchor.IsEmpty)
                bag.Error(DiagnosticCodes.UnsupportedYaml, Loc(file, node.Start), $"YAML anchor '&{node.Anchor}' is not allowed in rules", "write values out in full");
            if (!node.Tag.IsEmpty && !node.Tag.IsNonSpecific)
                bag.Error(DiagnosticCodes.UnsupportedYaml, Loc(file, node.Start), $"YAML tag '{node.Tag}' is not allowed in rules", "remove the tag");
        }

        switch (current)
        {
            case Scalar scalar:
                parser.MoveNext();
                return new YScalar(Loc(file, scalar.Start), scalar.Value, scalar.Style);
            case SequenceStart start:
            {
                parser.MoveNext();
                var items = ImmutableArray.CreateBuilder<YNode>();
                while (!parser.TryConsume<SequenceEnd>(out _))
                {
                    items.Add(ReadNode(parser, file, bag, depth + 1));
                }

                return new YSequence(Loc(file, start.Start), items.ToImmutable());
            }

            case MappingStart start:
            {
                parser.MoveNext();
                var entries = ImmutableArray.CreateBuilder<YEntry>();
                var seen = new HashSet<string>(StringComparer.Ordinal);
                while (!parser.TryConsume<MappingEnd>(out _))
                {
                    var keyNode = ReadNode(parser, file, bag, depth + 1);
                    var value = ReadNode(parser, file, bag, depth + 1);
                    if (keyNode is not YScalar key)
                    {
                        bag.Error(DiagnosticCodes.UnsupportedYaml, keyNode.Location, "mapping keys must be plain strings");
                        continue;
                    }

                    if (!seen.Add(key.Value))
                    {
                        bag.Error(DiagnosticCodes.DuplicateKey, key.Location, $"key '{key.Value}' appears more than once in this mapping", "keep one of them");
                        continue;
                    }

                    entries.Add(new YEntry(key, value));
                }

                return new YMapping(Loc(file, start.Start), entries.ToImmutable());
            }

            default:
                throw new YamlException(current.Start, current.End, $"unexpected {current.GetType().Name}");
        }
    }

    private static SourceLocation Loc(string file, Mark mark) => new(file, (int)Math.Max(1, mark.Line), (int)Math.Max(1, mark.Column));

    private static string Clean(string message)
    {
        // YamlDotNet prefixes messages with "(Line: 3, Col: 5, Idx: 40) - (Line: ...): "; the position is already ours.
        var cut = message.LastIndexOf("): ", StringComparison.Ordinal);
        var text = cut >= 0 ? message[(cut + 3)..] : message;
        return text.TrimEnd('.');
    }
}
