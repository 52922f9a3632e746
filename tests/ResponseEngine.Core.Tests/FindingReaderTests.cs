using ResponseEngine.Diagnostics;
using ResponseEngine.Findings;
using ResponseEngine.TestKit;

namespace ResponseEngine.Core.Tests;

public class FindingReaderTests
{
    private const string Good = """{"id":"f1","source":"itdr","type":"weak_password","severity":"high","observed_at":"2026-11-20T08:15:00Z","subject":{"provider":"ad","name":"alice"},"attributes":{"reason":"breached","count":3}}""";

    [Fact]
    public void ReadText_SingleObject_LoadsEveryField()
    {
        var load = FindingReader.ReadText(Good, "one.json");

        load.Diagnostics.Should().BeEmpty();
        var finding = load.Findings.Should().ContainSingle().Subject;
        finding.Id.Should().Be("f1");
        finding.Kind.Should().Be(FindingKind.Detection);
        finding.Severity.Should().Be(Severity.High);
        finding.ObservedAt.Should().Be(new DateTimeOffset(2026, 11, 20, 8, 15, 0, TimeSpan.Zero));
        finding.Subject.Should().Be(new Subject(Provider.Ad, null, "alice"));
        finding.Title.Should().Be("weak_password");
        finding.Attributes["reason"].GetString().Should().Be("breached");
        finding.Origin.Should().Be("one.json:1:1");
    }

    [Fact]
    public void ReadText_ArrayWithBadRecords_ReportsEachWithItsLineAndKeepsTheGoodOnes()
    {
        var text = "[\n" + Good + ",\n" +
                   """{"id":"f2","source":"itdr","type":"weak_password","severity":"urgent","observed_at":"2026-11-20T08:15:00Z","subject":{"provider":"ad","name":"bob"}}""" + ",\n" +
                   Good.Replace("\"f1\"", "\"f3\"") + ",\n" +
                   """{"id":"f4","source":"itdr","type":"Weak Password","severity":"low","observed_at":"yesterday","subject":{"provider":"gsuite"}}""" + ",\n" +
                   "42\n]";

        var load = FindingReader.ReadText(text, "batch.json");

        load.Findings.Select(f => f.Id).Should().Equal("f1", "f3");
        load.Diagnostics.Should().OnlyContain(d => d.IsError);
        load.Diagnostics.Should().Contain(d => d.Location.Line == 3 && d.Message.Contains("'severity' is 'urgent'") && d.Hint == "did you mean 'high'?"
            || d.Location.Line == 3 && d.Message.Contains("severity"));
        load.Diagnostics.Where(d => d.Location.Line == 5).Select(d => d.Message).Should().Contain(m => m.Contains("snake_case"))
            .And.Contain(m => m.Contains("RFC 3339")).And.Contain(m => m.Contains("subject.provider"));
        load.Diagnostics.Should().Contain(d => d.Location.Line == 6 && d.Code == DiagnosticCodes.FindingMalformed);
    }

    [Fact]
    public void ReadText_Ndjson_ReportsBadLinesAndKeepsTheRest()
    {
        var text = Good + "\n\n{not json}\n" + Good.Replace("\"f1\"", "\"f2\"") + "\n" + Good.Replace("\"subject\":{\"provider\":\"ad\",\"name\":\"alice\"},", "") + "\n";

        var load = FindingReader.ReadText(text, "stream.ndjson");

        load.Findings.Select(f => f.Id).Should().Equal("f1", "f2");
        load.Diagnostics.Should().HaveCount(2);
        load.Diagnostics[0].Should().Match<Diagnostic>(d => d.Code == DiagnosticCodes.FindingMalformed && d.Location.Line == 3);
        load.Diagnostics[1].Should().Match<Diagnostic>(d => d.Code == DiagnosticCodes.FindingMissingField && d.Location.Line == 5);
    }

    [Fact]
    public void ReadText_UnknownField_IsAnErrorWithASuggestion()
    {
        var load = FindingReader.ReadText(Good.Replace("\"severity\"", "\"severty\""), "typo.json");

        load.Findings.Should().BeEmpty();
        load.Diagnostics.Should().Contain(d => d.Message == "unknown field 'severty'" && d.Hint!.StartsWith("did you mean 'severity'?", StringComparison.Ordinal));
    }

    [Fact]
    public void ReadText_ConcatenatedObjects_AreAllRead()
    {
        var load = FindingReader.ReadText(Good + "\n" + Good.Replace("\"f1\"", "\"f2\""), "concat.json");

        load.Findings.Should().HaveCount(2);
        load.Findings[1].Origin.Should().Be("concat.json:2:1");
    }

    [Fact]
    public void ReadText_DuplicateSourceAndId_KeepsTheFirstAndWarns()
    {
        var load = FindingReader.ReadText("[" + Good + "," + Good + "]", "dup.json");

        load.Findings.Should().ContainSingle();
        load.Diagnostics.Should().ContainSingle(d => d.Code == DiagnosticCodes.FindingDuplicate && !d.IsError);
    }

    [Fact]
    public void ReadText_TruncatedArray_ReportsWhereAndKeepsWhatWasRead()
    {
        var load = FindingReader.ReadText("[\n" + Good + ",\n{\"id\": ", "cut.json");

        load.Findings.Should().ContainSingle();
        load.Diagnostics.Should().ContainSingle(d => d.Code == DiagnosticCodes.FindingMalformed && d.Location.Line == 3);
    }

    [Fact]
    public void ReadPaths_Folder_ReadsJsonNdjsonAndJsonlRecursively()
    {
        using var temp = new TempDirectory();
        temp.Write("a.json", "[" + Good + "]");
        temp.Write("sub/b.ndjson", Good.Replace("\"f1\"", "\"f2\""));
        temp.Write("sub/c.jsonl", Good.Replace("\"f1\"", "\"f3\""));
        temp.Write("notes.txt", "ignored");

        var load = FindingReader.ReadPaths([temp.Path]);

        load.Diagnostics.Should().BeEmpty();
        load.Findings.Select(f => f.Id).Should().Equal("f1", "f2", "f3");
    }

    [Fact]
    public void ReadPaths_MissingPath_IsAnError()
    {
        var load = FindingReader.ReadPaths(["/nonexistent/findings.json"]);

        load.Diagnostics.Should().ContainSingle(d => d.Code == DiagnosticCodes.FileUnreadable);
    }

    [Fact]
    public void SampleFindings_AllValidateAgainstTheFindingSchema()
    {
        var load = FindingReader.ReadPaths([RepoPaths.SampleFindings]);
        load.Diagnostics.Where(d => d.IsError).Should().BeEmpty();
        load.Findings.Length.Should().BeGreaterThanOrEqualTo(500);

        foreach (var file in Directory.EnumerateFiles(RepoPaths.SampleFindings, "*.*", SearchOption.AllDirectories))
        {
            var text = File.ReadAllText(file);
            var records = file.EndsWith(".json", StringComparison.Ordinal) && text.TrimStart().StartsWith('[')
                ? System.Text.Json.Nodes.JsonNode.Parse(text)!.AsArray().Select(n => n!.ToJsonString())
                : text.Split('\n', StringSplitOptions.RemoveEmptyEntries);
            foreach (var record in records)
            {
                SchemaValidator.Validate("finding", record).Should().BeEmpty($"{file}: {record}");
            }
        }
    }
}
