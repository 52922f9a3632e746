using System.Net;
using Microsoft.Playwright;
using ResponseEngine.Service.Tests;
using ResponseEngine.TestKit;
using ResponseEngine.TestKit.Oidc;
using static Microsoft.Playwright.Assertions;

namespace ResponseEngine.Console.Tests;

/// <summary>What the browser tests do in a page: sign in as a person, wait for what the service does, take screenshots.</summary>
public static class ConsoleBrowser
{
    /// <summary>How long a condition may take to hold on a loaded 2-core machine; a deadline, never a wait that passes.</summary>
    public static readonly TimeSpan Deadline = TimeSpan.FromMinutes(2);

    static ConsoleBrowser() => SetDefaultExpectTimeout((float)TimeSpan.FromSeconds(60).TotalMilliseconds);

    /// <summary>Opens the console in a fresh browser context (no cookies), is sent to the OIDC provider, presses the person's button, and lands back signed in.</summary>
    public static async Task<IPage> SignInAsync(ConsoleServe serve, OidcUser user, string path = "/console/")
    {
        Chromium.Require();
        var context = await serve.Browser!.NewContextAsync(new BrowserNewContextOptions { ViewportSize = new ViewportSize { Width = 1280, Height = 900 }, Locale = "en-GB", TimezoneId = "UTC" });
        context.SetDefaultTimeout((float)TimeSpan.FromSeconds(60).TotalMilliseconds);
        context.SetDefaultNavigationTimeout((float)TimeSpan.FromSeconds(60).TotalMilliseconds);
        var page = await context.NewPageAsync();
        await page.GotoAsync(serve.Page(path).AbsoluteUri);
        await Expect(page).ToHaveURLAsync(new System.Text.RegularExpressions.Regex("^" + System.Text.RegularExpressions.Regex.Escape(serve.Oidc.Issuer + "/authorize")));
        await page.GetByRole(AriaRole.Button, new PageGetByRoleOptions { Name = $"Sign in as {user.Name} ({user.PreferredUsername})" }).ClickAsync();
        await Expect(page.GetByTestId("who")).ToContainTextAsync(user.PreferredUsername);
        return page;
    }

    /// <summary>Reloads until <paramref name="locator"/> matches something: the page shows what the service decided once it has.</summary>
    public static Task ReloadUntilVisibleAsync(IPage page, ILocator locator, string what) =>
        ServeWorkspace.Eventually(async () =>
        {
            await page.ReloadAsync();
            return await locator.CountAsync() > 0;
        }, Deadline, what);

    /// <summary>
    /// A screenshot as a test artefact, TestResults/console/NAME.png under the test output; with
    /// RESPOND_CONSOLE_SCREENSHOTS_TO_DOCS=1 also copied into docs/console/ (how the docs' images are refreshed).
    /// </summary>
    public static async Task ScreenshotAsync(IPage page, string name)
    {
        var folder = Path.Combine(AppContext.BaseDirectory, "TestResults", "console");
        Directory.CreateDirectory(folder);
        var file = Path.Combine(folder, name + ".png");
        await page.ScreenshotAsync(new PageScreenshotOptions { Path = file, FullPage = true });
        if (System.Environment.GetEnvironmentVariable("RESPOND_CONSOLE_SCREENSHOTS_TO_DOCS") == "1")
        {
            var docs = Path.Combine(RepoPaths.Root, "docs", "console");
            Directory.CreateDirectory(docs);
            File.Copy(file, Path.Combine(docs, name + ".png"), overwrite: true);
        }
    }

    /// <summary>
    /// The request a page's own script would send (its sign-in cookie and its anti-forgery token, a JSON body with the
    /// reason when one is given): the HTTP status. How the tests show that what a button is hidden from is also refused.
    /// </summary>
    public static Task<int> FetchStatusAsync(IPage page, string method, string path, string? reason = null) =>
        page.EvaluateAsync<int>(
            """
            async ([method, path, reason]) => {
              const token = document.querySelector('meta[name="csrf-token"]').content;
              const header = document.querySelector('meta[name="csrf-header"]').content;
              const response = await fetch(path, {
                method, credentials: 'same-origin',
                headers: { 'Content-Type': 'application/json', [header]: token },
                body: reason === null ? undefined : JSON.stringify({ reason }) });
              return response.status;
            }
            """, new object?[] { method, path, reason });

    /// <summary>Posts findings to the signed webhook as an ITDR product would.</summary>
    public static async Task PostFindingsAsync(ConsoleServe serve, params string[] findings)
    {
        using var http = new HttpClient();
        using var response = await http.SendAsync(ServeWorkspace.Signed(serve.Page("/v1/findings"), "[" + string.Join(',', findings) + "]", TimeProvider.System.GetUtcNow()),
            TestContext.Current.CancellationToken);
        response.StatusCode.Should().Be(HttpStatusCode.Accepted, serve.Serve.Log);
    }
}
