using System.Text;
using CsCheck;
using ResponseEngine.Diagnostics;
using ResponseEngine.Findings;
using ResponseEngine.TestKit;

namespace ResponseEngine.Core.Tests;

/// <summary>
/// The streamed NDJSON reader (a line at a time through a pooled buffer, #23) against the in-memory reader on generated
/// files: the same findings, the same diagnostics at the same file, line and column, in the same order — for good and
/// bad records, blank and whitespace lines, CRLF, invalid UTF-8, duplicates, a missing last newline and lines longer
/// than the first buffer.
/// </summary>
public sealed class FindingStreamTests : IDisposable
{
    private const string Good = """{"id":"ID","source":"itdr","type":"weak_password","severity":"high","observed_at":"2026-11-20T08:15:00Z","subject":{"provider":"ad","name":"alice"},"attributes":{"note":"NOTE"}}""";

    private static readonly Gen<byte[]> Line = Gen.OneOf(
        Gen.Int[0, 40].Select(i => Bytes(Good.Replace("\"ID\"", $"\"f{i}\"", StringComparison.Ordinal))),
        Gen.Int[0, 40].Select(i => Bytes(Good.Replace("\"ID\"", $"\"f{i}\"", StringComparison.Ordinal).Replace("high", "urgent", StringComparison.Ordinal))),
        Gen.Int[1, 200_000].Select(n => Bytes(Good.Replace("NOTE", new string('x', n), StringComparison.Ordinal))),
        Gen.Const(Bytes("{\"id\": \"broken\"")),
        Gen.Const(Bytes("   \t ")),
        Gen.Const(Bytes("")),
        Gen.Const(Bytes("  " + Good.Replace("\"ID\"", "\"lead\"", StringComparison.Ordinal) + "\r")),
        Gen.Const(Bytes("42")),
        Gen.Const<byte[]>([0x7b, 0x22, 0xff, 0xfe, 0x22, 0x7d]));

    private readonly TempDirectory _temp = new();

    public void Dispose() => _temp.Dispose();

    [Fact]
    public void Stream_GeneratedNdjson_SameFindingsAndDiagnosticsAsReadingTheWholeFile()
    {
        Gen.Select(Line.List[0, 30], Gen.Bool).Sample((lines, finalNewline) =>
        {
            var bytes = new List<byte>();
            for (var i = 0; i < lines.Count; i++)
            {
                bytes.AddRange(lines[i]);
                if (i < lines.Count - 1 || finalNewline) bytes.Add((byte)'\n');
            }

            var file = Path.Combine(_temp.Path, $"gen-{Guid.NewGuid():N}.ndjson");
            File.WriteAllBytes(file, [.. bytes]);
            var whole = FindingReader.ReadBytes([.. bytes], file);
            var reported = new List<Diagnostic>();
            var streamed = FindingReader.Stream([file], reported.Add).ToList();

            streamed.Select(Describe).Should().Equal(whole.Findings.Select(Describe));
            reported.Select(d => d.ToString()).Should().Equal(whole.Diagnostics.Select(d => d.ToString()));
        }, iter: 200);
    }

    private static string Describe(Finding f) =>
        $"{f.Origin} {f.Id} {f.Source} {f.Type} {f.Severity} {f.ObservedAt:O} {f.Subject} {f.Title} " + string.Join(",", f.Attributes.Select(a => a.Key + "=" + a.Value.GetRawText()));

    private static byte[] Bytes(string text) => Encoding.UTF8.GetBytes(text);
}
