using System.Net;
using CsCheck;
using ResponseEngine.Service.Console.Pages;

namespace ResponseEngine.Console.Tests;

/// <summary>What the console prints from a finding (any string an attacker controls) can never become markup or hide characters.</summary>
public sealed class HtmlTextTests
{
    private static readonly Gen<string> Hostile = Gen.OneOf(
        Gen.String[Gen.Char["<>&\"'`=/ \t\r\n\0\u001b\u202e\u200b\u0085\u2028aZ9é@+-"], 0, 40],
        Gen.String,
        Gen.Const("\"><script>alert(1)</script>"),
        Gen.Const("<img src=x onerror=alert(1)>\u001b[31m"));

    [Fact]
    public void Encoded_HasNoMarkupCharacters_NoControlCharacters_AndDecodesToThePrintableText()
    {
        Hostile.Sample(text =>
        {
            var encoded = HtmlText.E(text);
            encoded.Should().NotContainAny("<", ">", "\"", "'");
            encoded.Where(c => char.IsControl(c) || c is '\u202e' or '\u2028' or '\u2029').Should().BeEmpty();
            foreach (var amp in System.Text.RegularExpressions.Regex.Matches(encoded, "&[^;]*;?").Select(m => m.Value))
            {
                amp.Should().MatchRegex("^&(#[0-9]+|[a-z]+);$", "every ampersand starts an entity");
            }

            WebUtility.HtmlDecode(encoded).Should().Be(ResponseEngine.Diagnostics.Printable.Escape(text));
        });
    }
}
