using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Time.Testing;
using ResponseEngine.Service.Operations;

namespace ResponseEngine.Service.Tests;

/// <summary>`--log-format text` escapes what data put in a message, a category or an exception (issue #22).</summary>
public sealed class EscapingTextFormatterTests
{
    private static readonly string Hostile = new([
        .. Enumerable.Range(0, 0x20).Select(i => (char)i), .. Enumerable.Range(0x7f, 0x21).Select(i => (char)i),
        '\u2028', '\u2029', '\u202e', '\u2066', '\ud800',
    ]);

    [Fact]
    public void Write_HostileMessageCategoryAndException_OneLineWithoutRawControls()
    {
        var formatter = new EscapingTextFormatter(new FakeTimeProvider(new DateTimeOffset(2026, 12, 6, 8, 0, 0, TimeSpan.Zero)));
        var output = new StringWriter();
        var exception = new InvalidOperationException("boom" + Hostile + "\nFORGED");
        var entry = new LogEntry<string>(LogLevel.Warning, "cat" + Hostile, new EventId(100, "decision"), "subject evil" + Hostile + "\nFORGED line", exception, (s, _) => s);

        formatter.Write(entry, null, output);

        var text = output.ToString();
        text.Should().EndWith("\n");
        text[..^1].Should().NotContain("\n").And.StartWith("2026-12-06T08:00:00.000Z warn: cat\\x00");
        text[..^1].Where(c => c < ' ' || c is (>= '\u007f' and <= '\u009f') or '\u2028' or '\u2029' or '\u202e' or '\u2066' || char.IsSurrogate(c)).Should().BeEmpty();
        text.Should().Contain("[100] subject evil\\x00").And.Contain("\\nFORGED line").And.Contain("boom\\x00");
    }

    [Fact]
    public void Write_NoMessageNoException_WritesNothing()
    {
        var formatter = new EscapingTextFormatter(TimeProvider.System);
        var output = new StringWriter();

        formatter.Write(new LogEntry<string>(LogLevel.Information, "c", default, "", null, (_, _) => null!), null, output);

        output.ToString().Should().BeEmpty();
    }
}
