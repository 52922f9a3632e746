using System.Text.Json;
using Microsoft.Playwright;
using static Microsoft.Playwright.Assertions;

namespace ResponseEngine.Console.Tests;

/// <summary>
/// The keys that protect the session and anti-forgery cookies outlive the process (console.key_directory, by default
/// respond.state/console-keys): a person signed in before `respond serve` restarts is still signed in after, and the
/// anti-forgery token their page holds still passes.
/// </summary>
public sealed class ConsoleRestartBrowserTests(RestartConsoleServe serve) : IClassFixture<RestartConsoleServe>
{
    [Fact]
    public async Task AfterServeRestarts_TheSameCookieIsStillSignedIn_AndItsAntiforgeryTokenStillPasses()
    {
        var page = await ConsoleBrowser.SignInAsync(serve, ConsoleServe.Vic);
        using var session = JsonDocument.Parse(await (await page.Context.APIRequest.GetAsync(serve.Page("/v1/session").AbsoluteUri)).TextAsync());
        var token = session.RootElement.GetProperty("antiforgery_token").GetString()!;

        await serve.RestartAsync();

        // The same browser (its cookies are per host, not port) on the new process: no trip to the provider.
        await page.GotoAsync(serve.Page("/console/").AbsoluteUri);
        await Expect(page.GetByTestId("who")).ToContainTextAsync(ConsoleServe.Vic.PreferredUsername);
        serve.Oidc.Requests.Count(r => r.Path == "/token").Should().Be(1, "Vic signed in once");

        // A state change with the cookie and the token issued before the restart (sign-out, which a viewer may do).
        var signOut = await page.Context.APIRequest.PostAsync(serve.Page("/console/signout").AbsoluteUri,
            new APIRequestContextOptions { Headers = new Dictionary<string, string> { [ "X-CSRF-TOKEN" ] = token }, MaxRedirects = 0 });
        signOut.Status.Should().Be(302, await signOut.TextAsync());
    }
}
