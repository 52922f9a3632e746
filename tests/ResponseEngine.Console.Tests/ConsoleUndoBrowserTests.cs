using System.Globalization;
using Microsoft.Playwright;
using ResponseEngine.Audit;
using ResponseEngine.Service.Tests;
using static Microsoft.Playwright.Assertions;

namespace ResponseEngine.Console.Tests;

/// <summary>A respond serve of its own for the undo tests (nothing else acts on its accounts).</summary>
public sealed class UndoConsoleServe : ConsoleServe;

/// <summary>
/// Undo from the identity timeline in a real browser against a real `respond serve`: a viewer sees that an action is
/// reversible but has no button, and the API refuses them (403, nothing written); an operator undoes it with a required
/// reason, the undo is guarded and audited once under their name, and the timeline no longer offers it.
/// </summary>
public sealed class ConsoleUndoBrowserTests(UndoConsoleServe serve) : IClassFixture<UndoConsoleServe>
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task Operator_UndoesADisableFromTheIdentityTimeline_WithAReason_AndAViewerCannot()
    {
        var user = ServeWorkspace.OktaUsers[9];
        await ConsoleBrowser.PostFindingsAsync(serve, ServeWorkspace.Finding("takeover-undo-1", user));
        AuditRecord? done = null;
        await ServeWorkspace.Eventually(async () =>
        {
            done = (await serve.Workspace.TrailAsync(Ct)).FirstOrDefault(r =>
                r.Entry.FindingId == "takeover-undo-1" && r.Entry.Action == "disable_user" && r.Entry.Status == AuditStatus.Succeeded);
            return done is not null;
        }, ConsoleBrowser.Deadline, "the takeover disables the account", () => serve.Serve.Log);
        var seq = done!.Sequence.ToString(CultureInfo.InvariantCulture);
        var timeline = $"/console/identity?id={Uri.EscapeDataString(user)}";

        // The viewer: told it is reversible, no button; the request the button would send is refused and writes nothing.
        var viewer = await ConsoleBrowser.SignInAsync(serve, ConsoleServe.Vic, timeline);
        var viewerCard = viewer.GetByTestId("timeline").Locator($"li[data-sequence='{seq}']");
        await Expect(viewerCard).ToContainTextAsync("disable_user");
        await Expect(viewerCard).ToContainTextAsync("an operator can undo it");
        await Expect(viewerCard.GetByRole(AriaRole.Button, new LocatorGetByRoleOptions { Name = "Undo" })).ToHaveCountAsync(0);
        var before = (await serve.Workspace.TrailAsync(Ct)).Count;
        var status = await ConsoleBrowser.FetchStatusAsync(viewer, "POST", $"/v1/audit/{seq}/undo", "a viewer tries");
        status.Should().Be(403);
        (await serve.Workspace.TrailAsync(Ct)).Should().HaveCount(before, "a refused undo writes nothing");

        // The operator: a blank reason is refused before anything is sent; with a reason the undo runs, guarded.
        var page = await ConsoleBrowser.SignInAsync(serve, ConsoleServe.Olga, timeline);
        await Expect(page.GetByTestId("role")).ToHaveTextAsync("operator");
        var card = page.GetByTestId("timeline").Locator($"li[data-sequence='{seq}']");
        var undo = card.GetByRole(AriaRole.Button, new LocatorGetByRoleOptions { Name = "Undo" });
        await undo.ClickAsync();
        await Expect(card.Locator("output")).ToContainTextAsync("A reason is required");
        (await serve.Workspace.TrailAsync(Ct)).Should().HaveCount(before, "nothing is sent without a reason");
        await ConsoleBrowser.ScreenshotAsync(page, "identity-undo");
        await card.GetByLabel("Reason").FillAsync("false positive: the user's own new phone, SEC-5120");
        await undo.ClickAsync();
        await Expect(page.Locator("#flash")).Not.ToBeEmptyAsync();

        var undoRows = (await serve.Workspace.TrailAsync(Ct)).Where(r => r.Entry.FindingId == "takeover-undo-1" && r.Entry.Action == "undo:disable_user").ToList();
        undoRows.Select(r => r.Entry.Status).Should().Equal([AuditStatus.Intended, AuditStatus.Succeeded], "one undo: its intent, then its outcome");
        undoRows.Should().OnlyContain(r => r.Entry.Actor.Contains("olga@corp.example.com") && r.Entry.Reason!.Contains("SEC-5120"));

        // The timeline shows the undo under the operator's name and offers no second undo of the same action.
        await page.GotoAsync(serve.Page(timeline).AbsoluteUri);
        await Expect(page.GetByTestId("timeline")).ToContainTextAsync("undo:disable_user");
        await Expect(page.GetByTestId("timeline")).ToContainTextAsync("olga@corp.example.com");
        await Expect(page.GetByTestId("timeline").Locator($"li[data-sequence='{seq}']").GetByRole(AriaRole.Button, new LocatorGetByRoleOptions { Name = "Undo" }))
            .ToHaveCountAsync(0);
    }
}
