using System.Text.Json;
using ResponseEngine.Cli.Rendering;
using ResponseEngine.TestKit;

namespace ResponseEngine.Cli.Tests.PlanRendering;

/// <summary>
/// #21 in every plan format: a decision on a person's linked accounts shows the person (the finding's subject) and each
/// linked account with the evidence of its link, and a provider where the link was refused with the reason; text and
/// JSON did, Markdown and HTML now do. Alice's AD account links to Entra by SID and immutable id and to Okta by login;
/// Carol has two Okta accounts with her login, so Okta is refused for her.
/// </summary>
public sealed class PlanPersonTests : IDisposable
{
    private readonly TempDirectory _temp = new();

    public void Dispose() => _temp.Dispose();

    private StreamedPlanFormats Workspace()
    {
        var directory = _temp.Write("directory.json", LinkedAccountsFixture.Directory(
            """{"provider": "ad", "id": "8d1b1c2a-0000-4000-8000-000000000009", "name": "carol", "upn": "carol@corp.example.com"}""",
            """{"provider": "okta", "id": "00u-carol1", "name": "carol@corp.example.com", "okta_status": "ACTIVE"}""",
            """{"provider": "okta", "id": "00u-carol2", "name": "carol@corp.example.com", "okta_status": "ACTIVE"}"""));
        _temp.Write("rules/ad-compromised-person.yaml", LinkedAccountsFixture.PersonRule());
        var findings = _temp.Write("findings/f.json", $"[{LinkedAccountsFixture.ItdrFinding("itdr-1", "alice")},\n {LinkedAccountsFixture.ItdrFinding("itdr-2", "carol")}]\n");
        var config = _temp.Write("respond.yaml", LinkedAccountsFixture.Linking + "\n");
        return new StreamedPlanFormats(Path.Combine(_temp.Path, "rules"), findings, directory, config);
    }

    [Theory]
    [InlineData("text")]
    [InlineData("markdown")]
    [InlineData("html")]
    public async Task LinkedDecisions_ShowThePersonEachAccountWithItsEvidenceAndTheRefusals(string format)
    {
        var plans = Workspace();
        using var json = JsonDocument.Parse(plans.Cli("json"));
        var people = json.RootElement.GetProperty("decisions").EnumerateArray().Select(d => d.TryGetProperty("person", out var person) ? person : default)
            .Where(p => p.ValueKind == JsonValueKind.Object).ToList();
        var evidence = people.SelectMany(p => p.GetProperty("accounts").EnumerateArray()).Select(a => a.GetProperty("evidence"))
            .Where(e => e.ValueKind == JsonValueKind.String).Select(e => e.GetString()!).Distinct().ToList();
        var refusals = people.SelectMany(p => p.GetProperty("refused").EnumerateArray()).Select(r => r.GetProperty("reason").GetString()!).Distinct().ToList();
        evidence.Should().HaveCount(2, "Alice's Entra account links by the sync anchors and her Okta account by login");
        refusals.Should().ContainSingle("Carol's Okta link is refused: two accounts have her login");
        Func<string, string> shown = format switch
        {
            "markdown" => DisplayText.Markdown,
            "html" => DisplayText.Html,
            _ => TerminalText.Escape,
        };

        var plan = plans.Cli(format);

        plan.Should().Contain($"person of {shown("alice@corp.example.com")} (ad)").And.Contain($"person of {shown("carol@corp.example.com")} (ad)");
        foreach (var link in evidence) plan.Should().Contain(shown(link), "each linked account is shown with its evidence");
        foreach (var reason in refusals) plan.Should().Contain(shown($"okta refused: {reason}"));
        plan.Should().Be(StreamedPlanFormats.Reference(format, await plans.InMemoryAsync()), "the streamed plan is the whole plan's rendering");
    }
}
