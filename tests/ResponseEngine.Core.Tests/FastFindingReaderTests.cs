using System.Text;
using CsCheck;
using ResponseEngine.Findings;

namespace ResponseEngine.Core.Tests;

/// <summary>
/// The fast finding reader (Utf8JsonReader straight into a finding, #23) against the checked reader it replaces on the
/// hot path (every record through JsonDocument and the field-by-field checks): on generated valid records and on
/// generated hostile bytes — truncation, invalid UTF-8, control characters, lone surrogate escapes, deep nesting,
/// duplicate keys, huge numbers, BOMs, CRLF, escaped names — in NDJSON and in each JSON form the reader accepts, the same
/// findings, the same diagnostics at the same file, line and column, and the same rejected records.
/// </summary>
public class FastFindingReaderTests
{
    private static Gen<T> Pick<T>(params T[] items) => Gen.Int[0, items.Length - 1].Select(i => items[i]);

    private static readonly Gen<string> Timestamp = Gen.OneOf(
        Gen.Select(Gen.Int[1990, 2030], Gen.Int[1, 12], Gen.Int[1, 28], Gen.Int[0, 23], Gen.Int[0, 59], Gen.Int[0, 59],
            (y, mo, d, h, mi, s) => $"{y:D4}-{mo:D2}-{d:D2}T{h:D2}:{mi:D2}:{s:D2}Z"),
        Gen.Select(Gen.Int[0, 9_999_999], Gen.Int[1, 9], (f, digits) => "2026-11-20T08:15:00." + f.ToString("D7", System.Globalization.CultureInfo.InvariantCulture)[..Math.Min(digits, 7)] + (digits > 7 ? new string('1', digits - 7) : "") + "Z"),
        Pick("2026-11-20T08:15:00+02:00", "2026-11-20t08:15:00z", "2026-02-30T08:15:00Z", "2026-11-20T24:00:00Z", "2026-11-20T08:15:60Z",
            "2026-11-20 08:15:00Z", "2026-11-20T08:15:00", "0000-01-01T00:00:00Z", "9999-12-31T23:59:59.9999999Z", "2024-02-29T00:00:00Z", "2023-02-29T00:00:00Z",
            "2026-11-20T08:15:00.Z", "２０２６-11-20T08:15:00Z", "2026-11-20T08:15:00-00:00", "   ", ""));

    private static readonly Gen<string> Text = Gen.OneOf(
        Pick("alice", "alice@corp.example.com", "", "   ", "Ünïcødé ✓", "tab\there", "quote\"d", "back\\slash", "nul\u0000", "esc\u001b[31m"),
        Gen.String[Gen.Char[' ', '~'], 1, 12]);

    /// <summary>A JSON string literal: plainly written, or with characters escaped (the same text either way).</summary>
    private static Gen<string> Literal(Gen<string> text) => Gen.Select(text, Gen.Bool, (t, escape) => escape
        ? "\"" + string.Concat(t.Select(c => $"\\u{(int)c:x4}")) + "\""
        : System.Text.Json.JsonSerializer.Serialize(t));

    private static readonly Gen<string> AttributeValue = Gen.Recursive<string>((depth, self) => depth >= 3
        ? Gen.OneOf(Literal(Text), Pick("1", "-0.5", "1e400", "123456789012345678901234567890", "true", "false", "null"))
        : Gen.Frequency(
            (4, Gen.OneOf(Literal(Text), Pick("1", "-0.5", "1e400", "true", "null"))),
            (1, self.Array[0, 3].Select(items => "[" + string.Join(",", items) + "]")),
            (1, Gen.Select(Literal(Pick("a", "b", "a", "c")), self, (k, v) => $"{{{k}:{v}}}"))));

    /// <summary>One field of a record: usually right, sometimes wrong in one of the ways the checked path names.</summary>
    private static readonly Gen<string> Field = Gen.Frequency(
        (6, Literal(Pick("f1", "f2", "f3", "f4")).Select(v => $"\"id\":{v}")),
        (4, Literal(Pick("itdr", "okta", "itdr")).Select(v => $"\"source\":{v}")),
        (5, Literal(Pick("weak_password", "password_spray", "Weak_Password", "9lives", "a", "spray-x")).Select(v => $"\"type\":{v}")),
        (5, Literal(Pick("high", "low", "medium", "critical", "informational", "High", "urgent")).Select(v => $"\"severity\":{v}")),
        (5, Literal(Timestamp).Select(v => $"\"observed_at\":{v}")),
        (2, Pick("\"kind\":\"posture\"", "\"kind\":\"detection\"", "\"kind\":\"other\"", "\"kind\":null", "\"kind\":1")),
        (2, Gen.OneOf(Literal(Text), Pick("null", "5")).Select(v => $"\"title\":{v}")),
        (5, Gen.Select(Literal(Pick("ad", "entra", "okta", "AD", "ldap")), Gen.OneOf(Literal(Text), Pick("null", "1")), Gen.Int[0, 6],
            (p, v, shape) => "\"subject\":" + shape switch
            {
                0 => $"{{\"provider\":{p},\"name\":{v}}}",
                1 => $"{{\"id\":{v},\"provider\":{p}}}",
                2 => $"{{\"provider\":{p},\"id\":{v},\"name\":\"n\"}}",
                3 => $"{{\"provider\":{p}}}",
                4 => $"{{\"provider\":{p},\"name\":{v},\"nmae\":\"x\"}}",
                5 => $"{{\"provider\":{p},\"name\":{v},\"name\":\"y\"}}",
                _ => "\"alice\"",
            })),
        (3, Gen.OneOf(Gen.Select(Literal(Pick("count", "note", "ip")), AttributeValue, (k, v) => $"{k}:{v}").Array[0, 4].Select(kv => "{" + string.Join(",", kv) + "}"),
            Gen.Select(Literal(Pick("k0", "k1", "k2", "k3", "k4", "k5", "k6", "k7", "k8", "k9", "k10", "count")), AttributeValue, (k, v) => $"{k}:{v}").Array[7, 14].Select(kv => "{" + string.Join(",", kv) + "}"),
            Pick("null", "[]", "\"x\"", "{}", "{ }")).Select(v => $"\"attributes\":{v}")),
        (1, Pick("\"severty\":\"high\"", "\"\\u0069d\":\"escaped-name\"", "\"extra\":{}")));

    private static readonly Gen<string> ValidRecord = Gen.Select(Pick("f1", "f2", "f3", "f4", "f5", "f6"), Timestamp, Text, Gen.Bool, AttributeValue.Array[0, 3], (id, at, name, posture, attrs) =>
        $"{{\"id\":\"{id}\",\"source\":\"itdr\",\"type\":\"weak_password\",\"severity\":\"high\",\"observed_at\":\"{at}\","
        + $"\"subject\":{{\"provider\":\"ad\",\"name\":{System.Text.Json.JsonSerializer.Serialize(name)}}}" + (posture ? ",\"kind\":\"posture\"" : "")
        + ",\"attributes\":{" + string.Join(",", attrs.Select((a, i) => $"\"k{i}\":{a}")) + "}}");

    private static readonly Gen<string> RandomRecord = Field.Array[0, 11].Select(fields => "{" + string.Join(",", fields) + "}");

    /// <summary>A record's bytes, now and then damaged: cut short, a byte replaced by invalid UTF-8 or a control character, nested too deep, a BOM or a lone surrogate.</summary>
    private static readonly Gen<byte[]> Record = Gen.Select(Gen.Frequency((3, ValidRecord), (3, RandomRecord)), Gen.Int[0, 9], Gen.Int[0, 100_000], (record, damage, at) =>
    {
        var bytes = Encoding.UTF8.GetBytes(record);
        var i = at % Math.Max(1, bytes.Length);
        return damage switch
        {
            0 => bytes[..i],
            1 => [.. bytes[..i], 0xff, .. bytes[i..]],
            2 => [.. bytes[..i], 0xc3, .. bytes[i..]],
            3 => [.. bytes[..i], 0x01, .. bytes[i..]],
            4 => Encoding.UTF8.GetBytes(record.Replace("\"attributes\":{", "\"attributes\":{\"deep\":" + new string('[', 70) + new string(']', 70) + ",", StringComparison.Ordinal)),
            5 => [0xef, 0xbb, 0xbf, .. bytes],
            6 => Encoding.UTF8.GetBytes(record.Replace("\"itdr\"", "\"it\\ud800dr\"", StringComparison.Ordinal)),
            7 => Encoding.UTF8.GetBytes(record.Replace("\"attributes\":{", "\"attributes\":{/* a comment */", StringComparison.Ordinal)),
            _ => bytes,
        };
    });

    [Fact]
    public void Fast_GeneratedNdjson_SameFindingsDiagnosticsAndRejectionsAsTheCheckedReader()
    {
        Gen.Select(Record.Array[0, 12], Pick("\n", "\r\n"), Gen.Bool).Sample((records, newline, final) =>
        {
            var bytes = Join(records, Encoding.UTF8.GetBytes(newline), final);
            Same(bytes, "gen.ndjson");
        }, iter: 2000);
    }

    [Fact]
    public void Fast_GeneratedJsonForms_SameFindingsDiagnosticsAndRejectionsAsTheCheckedReader()
    {
        Gen.Select(Record.Array[0, 8], Gen.Int[0, 3], Pick("\n", "\r\n", " ", "")).Sample((records, form, gap) =>
        {
            var separator = Encoding.UTF8.GetBytes(form == 2 ? gap : "," + gap);
            var body = Join(records, separator, final: false);
            byte[] bytes = form switch
            {
                0 => [(byte)'[', .. body, (byte)']'],   // an array of findings
                1 => [(byte)'[', .. body, (byte)']', .. "\n/* a comment */ "u8, .. (records.Length > 0 ? records[0] : [])], // an array, then one more object
                _ => body,                               // objects one after another (or one object)
            };
            Same(bytes, "gen.json");
        }, iter: 2000);
    }

    [Fact]
    public void Fast_ValidRecords_AreReadByTheFastPathItself()
    {
        // The equivalence above would also hold if every record fell back to the checked path: valid ones must not.
        ValidRecord.Where(r => !r.Contains("T24", StringComparison.Ordinal)).Sample(record =>
        {
            var bytes = Encoding.UTF8.GetBytes(record);
            var slow = FindingReader.ReadBytes(bytes, "v.ndjson", fast: false);
            if (slow.Findings.Length != 1) return;
            var fast = FindingReader.ReadFastLine(bytes, slow.Findings[0].Location!.Value, new Utf8StringCache());
            fast.Should().NotBeNull(record);
            Describe(fast!).Should().Be(Describe(slow.Findings[0]));
        }, iter: 500);
    }

    [Fact]
    public void LineIndex_LocatingInFileOrder_SameColumnsAsCountingFromTheLineStart()
    {
        // Bytes with multi-byte, invalid and newline bytes; offsets at ASCII bytes (token starts), in file order.
        var bytes = Gen.OneOf(Gen.Const((byte)'{'), Gen.Const((byte)'\n'), Gen.Const((byte)0xff), Gen.Const((byte)0xc3), Gen.Const((byte)0xa9), Gen.Byte[0x20, 0x7e]).Array[1, 300];
        bytes.Sample(data =>
        {
            var offsets = Enumerable.Range(0, data.Length).Where(i => data[i] < 0x80).ToList();
            var incremental = new FindingReader.LineIndex(data);
            foreach (var offset in offsets)
            {
                incremental.Locate("f.json", offset).Should().Be(new FindingReader.LineIndex(data).Locate("f.json", offset));
            }
        }, iter: 500);
    }

    [Theory]
    [InlineData("2026-11-20T08:15:00Z")]
    [InlineData("2026-11-20T08:15:00.1Z")]
    [InlineData("2026-11-20T08:15:00.1234567Z")]
    [InlineData("2024-02-29T23:59:59Z")]
    [InlineData("0001-01-01T00:00:00Z")]
    [InlineData("9999-12-31T23:59:59.9999999Z")]
    public void TryUtcTimestamp_CommonForm_ReadsWhatTryParseTimestampReads(string text)
    {
        FindingReader.TryUtcTimestamp(Encoding.UTF8.GetBytes(text), out var fast).Should().BeTrue();
        FindingReader.TryParseTimestamp(text, out var slow).Should().BeTrue();
        fast.Should().Be(slow);
        fast.Offset.Should().Be(slow.Offset);
    }

    private static void Same(byte[] bytes, string file)
    {
        var fast = FindingReader.ReadBytes(bytes, file, fast: true);
        var slow = FindingReader.ReadBytes(bytes, file, fast: false);
        var because = Encoding.UTF8.GetString(bytes);
        fast.Findings.Select(Describe).Should().Equal(slow.Findings.Select(Describe), because);
        fast.Diagnostics.Select(d => d.ToString() + " | " + d.Hint).Should().Equal(slow.Diagnostics.Select(d => d.ToString() + " | " + d.Hint), because);
        fast.Rejected.Should().Equal(slow.Rejected, because);
    }

    private static byte[] Join(byte[][] records, byte[] separator, bool final)
    {
        var bytes = new List<byte>();
        for (var i = 0; i < records.Length; i++)
        {
            bytes.AddRange(records[i]);
            if (i < records.Length - 1 || final) bytes.AddRange(separator);
        }

        return [.. bytes];
    }

    private static readonly string[] LookedUp = ["count", "note", "ip", "k0", "k9", "k10", "a", "absent"];

    /// <summary>Everything a finding says, its attributes enumerated (in key order) and looked up by key, present and absent.</summary>
    private static string Describe(Finding f) =>
        $"{f.Origin}|{f.Id}|{f.Source}|{f.Kind}|{f.Type}|{f.Severity}|{f.ObservedAt:O}|{f.ObservedAt.Offset}|{f.Subject}|{f.Title}|{f.Attributes.Count}|"
        + string.Join(",", f.Attributes.OrderBy(a => a.Key, StringComparer.Ordinal).Select(a => a.Key + "=" + a.Value.ValueKind + ":" + a.Value.GetRawText())) + "|"
        + string.Join(",", LookedUp.Select(k => f.Attributes.TryGetValue(k, out var v) ? $"{k}={v.ValueKind}:{v.GetRawText()}:{f.Attributes.ContainsKey(k)}" : $"{k}:{f.Attributes.ContainsKey(k)}"));
}
