using Microsoft.Playwright;
using ResponseEngine.Service.Tests;
using static Microsoft.Playwright.Assertions;

namespace ResponseEngine.Console.Tests;

/// <summary>
/// One person, every account (#21), in a real browser: from an account's identity timeline, a viewer opens the person
/// and sees the AD, Entra and Okta accounts together, each linked one with its evidence, and every decision about any
/// of them newest first across them — nobody else's.
/// </summary>
public sealed class ConsolePersonBrowserTests(ApprovalConsoleServe serve) : IClassFixture<ApprovalConsoleServe>
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task Viewer_OpensThePersonFromAnAccount_AndSeesEveryAccountWithItsEvidence_NewestFirstAcrossThem()
    {
        var seeded = await PersonTrail.SeedAsync(serve.Workspace.Database, "pat", Ct);

        var page = await ConsoleBrowser.SignInAsync(serve, ConsoleServe.Vic, "/console/identity?id=00u-pat");
        await page.GetByTestId("person-link").ClickAsync();
        await Expect(page.GetByRole(AriaRole.Heading, new PageGetByRoleOptions { Name = "Person: 00u-pat", Level = 1 })).ToBeVisibleAsync();

        var accounts = page.GetByTestId("person-accounts").Locator("li");
        await Expect(accounts).ToHaveCountAsync(3);
        await Expect(accounts.Nth(0)).ToContainTextAsync("ad");
        await Expect(accounts.Nth(1)).ToContainTextAsync("pat@corp.example.com");
        await Expect(accounts.Nth(1)).ToContainTextAsync("linked: " + PersonTrail.EntraEvidence);
        await Expect(accounts.Nth(2)).ToContainTextAsync("linked: Okta login pat@corp.example.com = AD userPrincipalName");

        var rows = page.GetByTestId("person-timeline").Locator("li.card");
        await Expect(rows).ToHaveCountAsync(3);
        var sequences = new List<string?>();
        for (var i = 0; i < 3; i++) sequences.Add(await rows.Nth(i).GetAttributeAsync("data-sequence"));
        sequences.Should().Equal(seeded[2].Sequence.ToString(System.Globalization.CultureInfo.InvariantCulture),
            seeded[1].Sequence.ToString(System.Globalization.CultureInfo.InvariantCulture), seeded[0].Sequence.ToString(System.Globalization.CultureInfo.InvariantCulture));
        await Expect(page.GetByTestId("person-timeline")).Not.ToContainTextAsync("not-pat");
        await ConsoleBrowser.ScreenshotAsync(page, "person");
    }
}
