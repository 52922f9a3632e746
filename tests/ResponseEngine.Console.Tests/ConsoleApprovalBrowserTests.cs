using Microsoft.Playwright;
using ResponseEngine.Audit;
using ResponseEngine.Service.Tests;
using static Microsoft.Playwright.Assertions;

namespace ResponseEngine.Console.Tests;

/// <summary>
/// The console in a real browser against a real `respond serve`: an approver signs in with OpenID Connect, sees a
/// decision held for approval, approves it with a reason, and sees it executed with the audit row naming them; a viewer
/// has no button and the API refuses them (403); the activity filtered to one identity shows only that identity.
/// </summary>
public sealed class ConsoleApprovalBrowserTests(ApprovalConsoleServe serve) : IClassFixture<ApprovalConsoleServe>
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task Approver_SignsIn_ApprovesAHeldDecisionWithAReason_AndSeesItExecutedAndAuditedUnderTheirName()
    {
        var user = ServeWorkspace.OktaUsers[0];
        var page = await ConsoleBrowser.SignInAsync(serve, ConsoleServe.Alice);
        await Expect(page.GetByTestId("role")).ToHaveTextAsync("approver");
        await ConsoleBrowser.PostFindingsAsync(serve, ServeWorkspace.Finding("exfil-approve-1", user, type: "insider_exfiltration"));

        var card = page.GetByTestId("pending").Filter(new LocatorFilterOptions { HasText = user });
        await ConsoleBrowser.ReloadUntilVisibleAsync(page, card, $"a decision about {user} waits for approval");
        await Expect(card).ToContainTextAsync("deactivate_user");
        await Expect(card).ToContainTextAsync("okta-approve-deactivate");
        await Expect(card).ToContainTextAsync("exfil-approve-1");
        await ConsoleBrowser.ScreenshotAsync(page, "pending");

        // A blank reason is refused before anything is sent; then the reason goes with the approval.
        await card.GetByRole(AriaRole.Button, new LocatorGetByRoleOptions { Name = "Approve" }).ClickAsync();
        await Expect(card.Locator("output")).ToContainTextAsync("A reason is required");
        await card.GetByLabel("Reason").FillAsync("confirmed with the user's manager, ticket SEC-4411");
        await card.GetByRole(AriaRole.Button, new LocatorGetByRoleOptions { Name = "Approve" }).ClickAsync();
        await Expect(page.Locator("#flash")).ToContainTextAsync($"approved deactivate_user on {user}");
        await Expect(page.GetByTestId("pending").Filter(new LocatorFilterOptions { HasText = user })).ToHaveCountAsync(0);

        // The service decides the finding again and executes it; the activity shows the approval under Alice's name.
        await ServeWorkspace.Eventually(async () => (await serve.Workspace.TrailAsync(Ct)).Any(r =>
            r.Entry.IdentityName == user && r.Entry.Action == "deactivate_user" && r.Entry.Status == AuditStatus.Succeeded), ConsoleBrowser.Deadline, "the approved deactivation is executed", () => serve.Serve.Log);
        var approved = (await serve.Workspace.TrailAsync(Ct)).Single(r => r.Entry.IdentityName == user && r.Entry.Status == AuditStatus.Approved);
        approved.Entry.Actor.Should().Contain("alice@corp.example.com");
        approved.Entry.Reason.Should().Contain("ticket SEC-4411");

        await page.GotoAsync(serve.Page("/console/activity").AbsoluteUri);
        await page.GetByLabel("Identity").FillAsync(user);
        await page.GetByRole(AriaRole.Button, new PageGetByRoleOptions { Name = "Filter" }).ClickAsync();
        var rows = page.GetByTestId("activity").Locator("tbody tr");
        await Expect(rows.Filter(new LocatorFilterOptions { HasText = "succeeded" }).Filter(new LocatorFilterOptions { HasText = "deactivate_user" })).ToHaveCountAsync(1);
        var approval = rows.Filter(new LocatorFilterOptions { HasText = "approved" });
        await Expect(approval).ToContainTextAsync("alice@corp.example.com");
        await ConsoleBrowser.ScreenshotAsync(page, "activity-approved");

        // The approval row in full names the approver and the reason.
        await approval.GetByRole(AriaRole.Link, new LocatorGetByRoleOptions { Name = approved.Sequence.ToString(System.Globalization.CultureInfo.InvariantCulture), Exact = true }).ClickAsync();
        await Expect(page.GetByTestId("actor")).ToContainTextAsync("alice@corp.example.com");
        await Expect(page.GetByTestId("reason")).ToContainTextAsync("ticket SEC-4411");
    }

    [Fact]
    public async Task Viewer_SeesTheHeldDecision_WithoutAnApproveButton_AndTheApiRefusesThem403()
    {
        var user = ServeWorkspace.OktaUsers[1];
        var page = await ConsoleBrowser.SignInAsync(serve, ConsoleServe.Vic);
        await Expect(page.GetByTestId("role")).ToHaveTextAsync("viewer");
        await ConsoleBrowser.PostFindingsAsync(serve, ServeWorkspace.Finding("exfil-viewer-1", user, type: "insider_exfiltration"));

        var card = page.GetByTestId("pending").Filter(new LocatorFilterOptions { HasText = user });
        await ConsoleBrowser.ReloadUntilVisibleAsync(page, card, $"a decision about {user} waits for approval");
        await Expect(card.GetByRole(AriaRole.Button, new LocatorGetByRoleOptions { Name = "Approve" })).ToHaveCountAsync(0);
        await Expect(card.GetByRole(AriaRole.Button, new LocatorGetByRoleOptions { Name = "Reject" })).ToHaveCountAsync(0);
        await Expect(card.GetByTestId("needs-role")).ToContainTextAsync("needs the approver role");
        await ConsoleBrowser.ScreenshotAsync(page, "pending-viewer");

        // The same request the button would send, with the page's own cookie and anti-forgery token: 403, nothing written.
        var sequence = await card.GetAttributeAsync("data-sequence");
        var before = (await serve.Workspace.TrailAsync(Ct)).Count;
        var status = await ConsoleBrowser.FetchStatusAsync(page, "POST", $"/v1/approvals/{sequence}/approve", "a viewer tries");
        status.Should().Be(403);
        (await serve.Workspace.TrailAsync(Ct)).Should().HaveCount(before);
    }

    [Fact]
    public async Task Activity_FilteredToOneIdentity_ShowsOnlyThatIdentity_AndItsTimeline()
    {
        var (one, other) = (ServeWorkspace.OktaUsers[2], ServeWorkspace.OktaUsers[3]);
        await ConsoleBrowser.PostFindingsAsync(serve, ServeWorkspace.Finding("takeover-filter-1", one), ServeWorkspace.Finding("takeover-filter-2", other));
        await ServeWorkspace.Eventually(async () =>
        {
            var trail = await serve.Workspace.TrailAsync(Ct);
            return new[] { one, other }.All(u => trail.Any(r => r.Entry.IdentityName == u && r.Entry.Status == AuditStatus.Succeeded));
        }, ConsoleBrowser.Deadline, "both takeovers are acted on", () => serve.Serve.Log);

        var page = await ConsoleBrowser.SignInAsync(serve, ConsoleServe.Vic, "/console/activity");
        await Expect(page.GetByTestId("activity")).ToContainTextAsync(other);
        await page.GetByLabel("Identity").FillAsync(one);
        await page.GetByRole(AriaRole.Button, new PageGetByRoleOptions { Name = "Filter" }).ClickAsync();
        var rows = page.GetByTestId("activity").Locator("tbody tr");
        await Expect(rows.Filter(new LocatorFilterOptions { HasText = "disable_user" })).Not.ToHaveCountAsync(0);
        (await rows.CountAsync()).Should().Be(await rows.Filter(new LocatorFilterOptions { HasText = one }).CountAsync(), "every row shown is about the identity filtered");
        await Expect(page.GetByTestId("activity")).Not.ToContainTextAsync(other);
        await ConsoleBrowser.ScreenshotAsync(page, "activity-filtered");

        // The export of the current filter carries the same rows.
        var download = await page.RunAndWaitForDownloadAsync(() => page.GetByRole(AriaRole.Link, new PageGetByRoleOptions { Name = "CSV" }).ClickAsync());
        var csv = await File.ReadAllTextAsync(await download.PathAsync(), Ct);
        csv.Should().StartWith("sequence,").And.Contain(one).And.NotContain(other);

        await rows.First.GetByRole(AriaRole.Link, new LocatorGetByRoleOptions { Name = one }).ClickAsync();
        await Expect(page.GetByTestId("timeline")).ToContainTextAsync("disable_user");
        await ConsoleBrowser.ScreenshotAsync(page, "identity-timeline");
    }

    [Fact]
    public async Task AHostileIdentityName_IsShownAsText_NeverAsMarkup_AndItsControlCharactersEscaped()
    {
        const string Hostile = "<img src=x onerror=alert(1)>\\u001b[31mred"; // JSON-escaped: the finding carries a real ESC
        await ConsoleBrowser.PostFindingsAsync(serve, ServeWorkspace.Finding("hostile-1", Hostile));
        await ServeWorkspace.Eventually(async () => (await serve.Workspace.TrailAsync(Ct)).Any(r => r.Entry.FindingId == "hostile-1"),
            ConsoleBrowser.Deadline, "the hostile finding is decided", () => serve.Serve.Log);

        var page = await ConsoleBrowser.SignInAsync(serve, ConsoleServe.Vic, "/console/activity");
        var row = page.GetByTestId("activity").Locator("tbody tr").Filter(new LocatorFilterOptions { HasText = "<img src=x onerror=alert(1)>" });
        await Expect(row).ToHaveCountAsync(1);
        await Expect(page.Locator("main img")).ToHaveCountAsync(0);
        (await row.InnerTextAsync()).Should().NotContain("\u001b", "the escape character is shown escaped, not sent to the screen");
        (await page.ContentAsync()).Should().NotContain("\u001b");
    }
}
