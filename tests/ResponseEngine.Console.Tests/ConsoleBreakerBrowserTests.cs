using Microsoft.Playwright;
using ResponseEngine.Audit;
using ResponseEngine.Service.Tests;
using static Microsoft.Playwright.Assertions;

namespace ResponseEngine.Console.Tests;

/// <summary>
/// The breaker in a real browser: destructive actions open it, an operator sees what opened it and what it holds, and
/// re-arms it with a reason that the audit records under their name; the other pages render for the same person.
/// </summary>
public sealed class ConsoleBreakerBrowserTests(BreakerConsoleServe serve) : IClassFixture<BreakerConsoleServe>
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task Operator_SeesTheOpenBreaker_AndRearmsItWithAReason_AuditedUnderTheirName()
    {
        var users = ServeWorkspace.OktaUsers[10..14];
        await ConsoleBrowser.PostFindingsAsync(serve, [.. users.Select((u, i) => ServeWorkspace.Finding("takeover-breaker-" + i, u))]);
        await ServeWorkspace.Eventually(async () => (await serve.Workspace.TrailAsync(Ct)).Any(r => r.Entry.Status == AuditStatus.BreakerOpened),
            ConsoleBrowser.Deadline, "the breaker opens", () => serve.Serve.Log);

        var page = await ConsoleBrowser.SignInAsync(serve, ConsoleServe.Olga, "/console/breaker");
        await Expect(page.GetByTestId("role")).ToHaveTextAsync("operator");
        await Expect(page.GetByTestId("breaker-state")).ToContainTextAsync("open");
        await Expect(page.GetByTestId("held")).ToContainTextAsync("disable_user");
        await ConsoleBrowser.ScreenshotAsync(page, "breaker-open");

        await page.GetByLabel("Reason").FillAsync("four takeovers at once were a real incident; checked, re-arming");
        await page.GetByRole(AriaRole.Button, new PageGetByRoleOptions { Name = "Re-arm" }).ClickAsync();
        await Expect(page.Locator("#flash")).ToContainTextAsync("breaker re-armed");
        await Expect(page.GetByTestId("breaker-state")).ToContainTextAsync("closed");
        await ConsoleBrowser.ScreenshotAsync(page, "breaker-rearmed");

        var rearmed = (await serve.Workspace.TrailAsync(Ct)).Single(r => r.Entry.Status == AuditStatus.BreakerRearmed);
        rearmed.Entry.Actor.Should().Contain("olga@corp.example.com");
        rearmed.Entry.Reason.Should().Contain("checked, re-arming");

        foreach (var (path, heading, shot) in new[] { ("/console/runs", "Runs and rules", "runs-and-rules"), ("/console/health", "Health", "health") })
        {
            await page.GotoAsync(serve.Page(path).AbsoluteUri);
            await Expect(page.GetByRole(AriaRole.Heading, new PageGetByRoleOptions { Name = heading, Level = 1 })).ToBeVisibleAsync();
            await ConsoleBrowser.ScreenshotAsync(page, shot);
        }

        await Expect(page.GetByTestId("ready")).ToContainTextAsync("ready");
    }
}
