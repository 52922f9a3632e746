using System.Collections.Immutable;
using System.Text;
using System.Text.Json;
using CsCheck;
using ResponseEngine.Diagnostics;
using ResponseEngine.Findings;

namespace ResponseEngine.Core.Tests;

/// <summary>
/// What the fast reader keeps of a finding instead of a document and a dictionary (#23): the attributes as their UTF-8
/// text, parsed on first use; strings that repeat shared through a bounded cache; the origin as a location spelled when
/// asked. Each against what it replaces, on generated input.
/// </summary>
public class FindingAttributesTests
{
    private static readonly Gen<string> Key = Gen.OneOf(Gen.Int[0, 12].Select(i => $"k{i}"), Gen.String[Gen.Char[' ', '~'], 0, 6]);

    private static readonly Gen<string> Value = Gen.Recursive<string>((depth, self) => depth >= 3
        ? Gen.OneOf(Gen.String.Select(s => JsonSerializer.Serialize(s)), Gen.Const("null"), Gen.Const("1e400"), Gen.Long.Select(l => l.ToString(System.Globalization.CultureInfo.InvariantCulture)))
        : Gen.Frequency(
            (4, Gen.OneOf(Gen.String.Select(s => JsonSerializer.Serialize(s)), Gen.Const("null"), Gen.Const("true"), Gen.Const("-0.5"))),
            (1, self.Array[0, 3].Select(items => "[" + string.Join(",", items) + "]")),
            (1, Gen.Select(Key, self, (k, v) => $"{{{JsonSerializer.Serialize(k)}:{v}}}"))));

    /// <summary>An attributes object: up to 20 pairs (more than the scan limit), keys repeated often, a comment now and then.</summary>
    private static readonly Gen<string> AttributesObject = Gen.Select(Gen.Select(Key, Value, Gen.Bool, (k, v, comment) => (comment ? "/* c */ " : "") + $"{JsonSerializer.Serialize(k)}:{v}").Array[0, 20], pairs => "{" + string.Join(",", pairs) + "}");

    [Fact]
    public void LazyAttributes_GeneratedObjects_SameFactsAsTheDictionaryOfTheParsedObject()
    {
        AttributesObject.Sample(json =>
        {
            using var document = JsonDocument.Parse(json, new JsonDocumentOptions { CommentHandling = JsonCommentHandling.Skip });
            var expected = ImmutableDictionary.CreateBuilder<string, JsonElement>(StringComparer.Ordinal);
            foreach (var property in document.RootElement.EnumerateObject()) expected[property.Name] = property.Value.Clone();
            var lazy = FindingAttributes.FromCheckedUtf8(Encoding.UTF8.GetBytes(json));
            FindingAttributes eager = expected.ToImmutable();

            foreach (var attributes in new[] { lazy, eager })
            {
                attributes.Count.Should().Be(expected.Count, json);
                Facts(attributes).Should().Be(Facts(expected), json);
                foreach (var key in expected.Keys.Append("absent-key"))
                {
                    attributes.ContainsKey(key).Should().Be(expected.ContainsKey(key), json);
                    attributes.TryGetValue(key, out var value).Should().Be(expected.TryGetValue(key, out var want), json);
                    value.ValueKind.Should().Be(want.ValueKind, json);
                    if (want.ValueKind != JsonValueKind.Undefined) value.GetRawText().Should().Be(want.GetRawText(), json);
                }
            }
        }, iter: 1000);
    }

    [Fact]
    public void LazyAttributes_FirstAskedByManyThreadsAtOnce_EveryThreadSeesTheSameFacts()
    {
        var json = "{" + string.Join(",", Enumerable.Range(0, 30).Select(i => $"\"k{i}\":{i}")) + ",\"k3\":\"last\"}";
        for (var round = 0; round < 50; round++)
        {
            var attributes = FindingAttributes.FromCheckedUtf8(Encoding.UTF8.GetBytes(json));
            using var start = new Barrier(4);
            var seen = new string[4];
            var threads = Enumerable.Range(0, 4).Select(i => new Thread(() =>
            {
                start.SignalAndWait();
                seen[i] = string.Join(",", Enumerable.Range(0, 31).Select(k => attributes.TryGetValue($"k{k}", out var v) ? v.GetRawText() : "-")) + "|" + Facts(attributes);
            })).ToList();
            threads.ForEach(t => t.Start());
            threads.ForEach(t => t.Join());
            seen.Distinct().Should().ContainSingle().Which.Should().StartWith("0,1,2,\"last\",4");
        }
    }

    [Fact]
    public void StringCache_GeneratedBytes_SameTextAsAStrictDecodeAndNullWhenNotUtf8()
    {
        var strict = new UTF8Encoding(encoderShouldEmitUTF8Identifier: false, throwOnInvalidBytes: true);
        var bytes = Gen.OneOf(
            Gen.String[Gen.Char, 0, 40].Select(s => Encoding.UTF8.GetBytes(s)),
            Gen.Byte.Array[0, 120],
            Gen.Int[0, 5000].Select(i => Encoding.UTF8.GetBytes($"user-{i}")));
        var cache = new Utf8StringCache().Names;
        bytes.Array[1, 200].Sample(values =>
        {
            foreach (var value in values.Concat(values))
            {
                string? want;
                try
                {
                    want = strict.GetString(value);
                }
                catch (DecoderFallbackException)
                {
                    want = null;
                }

                cache.Get(value).Should().Be(want);
            }
        }, iter: 300);
    }

    [Fact]
    public void StringCache_RepeatedValue_IsOneString()
    {
        var cache = new Utf8StringCache();
        foreach (var table in new[] { cache.Labels, cache.Names, cache.Titles })
        {
            var first = table.Get("alice@corp.example.com"u8);
            table.Get("alice@corp.example.com"u8).Should().BeSameAs(first);
            var other = table.Get("Ünïcødé ✓"u8);
            table.Get("Ünïcødé ✓"u8).Should().BeSameAs(other).And.Be("Ünïcødé ✓");
        }
    }

    [Fact]
    public void Origin_OfAFindingRead_IsItsLocationSpelled_AndAnOriginGivenReplacesIt()
    {
        var load = FindingReader.ReadText("""
            {"id":"a","source":"s","type":"weak_password","severity":"high","observed_at":"2026-11-20T08:15:00Z","subject":{"provider":"ad","name":"alice"}}
            {"id":"b","source":"s","type":"weak_password","severity":"high","observed_at":"2026-11-20T08:15:00Z","subject":{"provider":"ad","name":"alice"},"extra":1}
            """, "o.ndjson");

        var finding = load.Findings.Should().ContainSingle().Subject;
        finding.Location.Should().Be(new SourceLocation("o.ndjson", 1, 1));
        finding.Origin.Should().Be("o.ndjson:1:1");
        var moved = finding with { Origin = "inbox #4" };
        moved.Origin.Should().Be("inbox #4");
        moved.Location.Should().BeNull();
    }

    private static string Facts(IEnumerable<KeyValuePair<string, JsonElement>> attributes) =>
        string.Join(",", attributes.OrderBy(a => a.Key, StringComparer.Ordinal).Select(a => $"{a.Key}={a.Value.ValueKind}:{a.Value.GetRawText()}"));
}
