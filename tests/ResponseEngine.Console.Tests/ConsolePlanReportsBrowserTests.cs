using System.Text.Json;
using Microsoft.Playwright;
using ResponseEngine.Service.Tests;
using ResponseEngine.TestKit;
using static Microsoft.Playwright.Assertions;

namespace ResponseEngine.Console.Tests;

/// <summary>The console with <c>console.plan_reports: plans</c>, a folder that exists before serve starts.</summary>
public sealed class PlanReportsConsoleServe : ConsoleServe
{
    protected override string ConsoleExtra => "  plan_reports: plans";

    protected override void Prepare(ServeWorkspace workspace) => Directory.CreateDirectory(Path.Combine(workspace.Path, "plans"));
}

/// <summary>
/// The latest plan reports on the Runs and rules page (#20), in Chromium against a real `respond serve`: two plans
/// written by the real `respond plan --format json --out` are listed newest first with their counts by verdict, one
/// opens with its decisions; a file that is not a plan is listed as unreadable with its reason escaped, a crafted plan's
/// markup is shown as text, and a name that is not listed (a path) is 404 in the page and the API.
/// </summary>
public sealed class ConsolePlanReportsBrowserTests(PlanReportsConsoleServe serve) : IClassFixture<PlanReportsConsoleServe>
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task TwoRealPlans_NewestFirst_WithCounts_OneOpens_AndAHostileFileIsUnreadableAndEscaped()
    {
        var (a, b, c) = (ServeWorkspace.OktaUsers[15], ServeWorkspace.OktaUsers[16], ServeWorkspace.OktaUsers[17]);
        var plans = Path.Combine(serve.Workspace.Path, "plans");
        await PlanAsync("first", ServeWorkspace.Finding("plan-1", a), ServeWorkspace.Finding("plan-2", b));
        await PlanAsync("second", ServeWorkspace.Finding("plan-3", a), ServeWorkspace.Finding("plan-4", b), ServeWorkspace.Finding("plan-5", c, type: "insider_exfiltration"));
        await File.WriteAllTextAsync(Path.Combine(plans, "broken.json"), "{\"plan_version\": 1, \"rules\": {\"git_commit\": <script>window.pwned = 1</script>}}", Ct);
        await File.WriteAllTextAsync(Path.Combine(plans, "crafted.json"),
            "{\"plan_version\": 1, \"decisions\": [{\"verdict\": \"execute\", \"action\": \"disable_user\", \"rule\": {\"id\": \"<img src=x onerror=window.pwned=2>\"}, \"reason\": \"a\\u0007b\"}], \"summary\": {\"decisions\": 1, \"by_verdict\": {\"execute\": 1}}}", Ct);
        // The order is by time written; set it rather than wait for the clock.
        var now = TimeProvider.System.GetUtcNow().UtcDateTime;
        File.SetLastWriteTimeUtc(Path.Combine(plans, "crafted.json"), now.AddHours(-4));
        File.SetLastWriteTimeUtc(Path.Combine(plans, "broken.json"), now.AddHours(-3));
        File.SetLastWriteTimeUtc(Path.Combine(plans, "first.json"), now.AddHours(-2));
        File.SetLastWriteTimeUtc(Path.Combine(plans, "second.json"), now.AddHours(-1));

        var page = await ConsoleBrowser.SignInAsync(serve, ConsoleServe.Vic, "/console/runs");
        var table = page.GetByTestId("plans");
        await Expect(table.Locator("tbody tr")).ToHaveCountAsync(4);
        (await table.Locator("tbody tr").EvaluateAllAsync<string[]>("rows => rows.map(r => r.dataset.name)")).Should().Equal("second.json", "first.json", "broken.json", "crafted.json");
        var second = table.Locator("tr[data-name='second.json']");
        await Expect(second.Locator("td[data-verdict='all']")).ToHaveTextAsync("3");
        await Expect(second.Locator("td[data-verdict='execute']")).ToHaveTextAsync("2");
        await Expect(second.Locator("td[data-verdict='hold']")).ToHaveTextAsync("1");
        var first = table.Locator("tr[data-name='first.json']");
        await Expect(first.Locator("td[data-verdict='execute']")).ToHaveTextAsync("2");
        await Expect(first.Locator("td[data-verdict='hold']")).ToHaveTextAsync("0");
        var broken = table.Locator("tr[data-name='broken.json']").GetByTestId("plan-unreadable");
        await Expect(broken).ToContainTextAsync("unreadable");
        await Expect(broken).ToContainTextAsync("'<' is an invalid start of a value");
        await ConsoleBrowser.ScreenshotAsync(page, "runs-plan-reports");

        await second.GetByRole(AriaRole.Link, new LocatorGetByRoleOptions { Name = "second.json" }).ClickAsync();
        await Expect(page.GetByTestId("plan-decisions")).ToContainTextAsync("3: 2 execute, 0 skip, 1 hold, 0 error");
        var decisions = page.GetByTestId("plan-decision-rows");
        await Expect(decisions.Locator("tbody tr")).ToHaveCountAsync(3);
        await Expect(decisions).ToContainTextAsync(a);
        await Expect(decisions).ToContainTextAsync(c);
        await Expect(decisions).ToContainTextAsync("deactivate_user");
        await Expect(decisions).ToContainTextAsync("okta-approve-deactivate");
        await ConsoleBrowser.ScreenshotAsync(page, "plan-report");

        // A crafted plan's markup and control characters are text; nothing it holds runs.
        await page.GotoAsync(serve.Page("/console/plans/crafted.json").AbsoluteUri);
        await Expect(page.GetByTestId("plan-decision-rows")).ToContainTextAsync("<img src=x onerror=window.pwned=2>");
        await Expect(page.GetByTestId("plan-decision-rows")).ToContainTextAsync("a\\x07b");
        (await page.EvaluateAsync<bool>("() => window.pwned === undefined")).Should().BeTrue("no markup from a plan file runs");
        await page.GotoAsync(serve.Page("/console/plans/broken.json").AbsoluteUri);
        await Expect(page.GetByTestId("plan-unreadable")).ToContainTextAsync("'<' is an invalid start of a value");
        (await page.EvaluateAsync<bool>("() => window.pwned === undefined")).Should().BeTrue("no markup from a plan file runs");

        // Only a listed name opens: a path is refused, in the page and in the API, as a missing report.
        var missing = await page.GotoAsync(serve.Page("/console/plans/..%2Frespond.yaml").AbsoluteUri);
        missing!.Status.Should().Be(404);
        (await ConsoleBrowser.FetchStatusAsync(page, "GET", "/v1/plans/..%2Frespond.yaml")).Should().Be(404);
        (await ConsoleBrowser.FetchStatusAsync(page, "GET", "/v1/plans/respond.yaml")).Should().Be(404);
        (await ConsoleBrowser.FetchStatusAsync(page, "GET", "/v1/plans/second.json?offset=2&limit=1")).Should().Be(200);
    }

    [Fact]
    public async Task TheApi_ListsAndPagesAReport_ForAViewer()
    {
        var user = ServeWorkspace.OktaUsers[18];
        await PlanAsync("api", ServeWorkspace.Finding("plan-api-1", user), ServeWorkspace.Finding("plan-api-2", ServeWorkspace.OktaUsers[19]));
        var page = await ConsoleBrowser.SignInAsync(serve, ConsoleServe.Vic, "/console/runs");

        var list = await GetJsonAsync(page, "/v1/plans");
        list.EnumerateArray().Select(r => r.GetProperty("name").GetString()).Should().Contain("api.json");
        var detail = await GetJsonAsync(page, "/v1/plans/api.json?offset=1&limit=1");
        detail.GetProperty("report").GetProperty("summary").GetProperty("decisions").GetInt64().Should().Be(2);
        detail.GetProperty("report").GetProperty("summary").GetProperty("by_verdict").GetProperty("execute").GetInt64().Should().Be(2);
        detail.GetProperty("offset").GetInt64().Should().Be(1);
        detail.GetProperty("decisions").EnumerateArray().Select(d => d.GetProperty("index").GetInt64()).Should().Equal(1);
        detail.GetProperty("next").ValueKind.Should().Be(JsonValueKind.Null);
        var openapi = await GetJsonAsync(page, "/openapi/v1.json");
        openapi.GetProperty("paths").EnumerateObject().Select(p => p.Name).Should().Contain(["/v1/plans", "/v1/plans/{name}"]);
    }

    private static async Task<JsonElement> GetJsonAsync(IPage page, string path)
    {
        var text = await page.EvaluateAsync<string>("async (path) => { const r = await fetch(path, { credentials: 'same-origin' }); return await r.text(); }", path);
        using var document = JsonDocument.Parse(text);
        return document.RootElement.Clone();
    }

    /// <summary>`respond plan --format json --out plans/NAME.json` in the workspace, on these findings.</summary>
    private async Task PlanAsync(string name, params string[] findings)
    {
        var file = serve.Workspace.Write($"findings-{name}.ndjson", string.Join('\n', findings) + "\n");
        var result = await CliProcess.RunAsync(serve.Workspace.Path, "plan", "--findings", file, "--format", "json", "--out", Path.Combine("plans", name + ".json"));
        result.ExitCode.Should().Be(0, result.Output + result.Error);
    }
}
