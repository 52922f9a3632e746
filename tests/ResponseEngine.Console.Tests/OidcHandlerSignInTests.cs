using System.Net;
using System.Security.Claims;
using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Authentication.Cookies;
using Microsoft.AspNetCore.Authentication.OpenIdConnect;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using ResponseEngine.TestKit.Oidc;

namespace ResponseEngine.Console.Tests;

/// <summary>
/// ASP.NET Core's own OpenIdConnect handler (what respond serve signs people in with) against the emulator over HTTPS:
/// discovery and JWKS through the backchannel, the code flow with PKCE and form_post, the id_token validated by the
/// handler (issuer, audience, signature, nonce), the user's claims in the cookie, and sign-out through end_session.
/// </summary>
public sealed class OidcHandlerSignInTests
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task TheOpenIdConnectHandler_SignsInThroughTheEmulator_AndSeesTheUsersNameGroupsAndRoles()
    {
        await using var oidc = await OidcEmulator.StartAsync(TimeProvider.System, https: true, Ct);
        oidc.RegisterClient("respond-console", "s3cret", [new Uri("http://127.0.0.1/signin-oidc")], [new Uri("http://127.0.0.1/signout-callback-oidc")]);
        oidc.AddUser(new OidcUser("u-olga", "Olga Operator", "olga@corp.example.com", Groups: ["respond-operators"], Roles: ["Console.Operator"]));

        var builder = WebApplication.CreateSlimBuilder(new WebApplicationOptions { EnvironmentName = "Production" });
        builder.Logging.ClearProviders();
        builder.WebHost.UseKestrel(o => o.Listen(IPAddress.Loopback, 0));
        builder.Services.AddAuthentication(o =>
            {
                o.DefaultScheme = CookieAuthenticationDefaults.AuthenticationScheme;
                o.DefaultChallengeScheme = OpenIdConnectDefaults.AuthenticationScheme;
            })
            .AddCookie()
            .AddOpenIdConnect(o =>
            {
                o.Authority = oidc.Issuer;
                o.ClientId = "respond-console";
                o.ClientSecret = "s3cret";
                o.ResponseType = "code";
                o.MapInboundClaims = false;
                o.BackchannelHttpHandler = OidcEmulatorTests.TrustingOnly(oidc.CaFile);
                o.Scope.Add("profile");
                o.SaveTokens = true; // the id_token goes back as id_token_hint at sign-out

                // The test client speaks plain HTTP to the app, so its correlation and nonce cookies may not be Secure-only.
                o.CorrelationCookie.SecurePolicy = CookieSecurePolicy.SameAsRequest;
                o.NonceCookie.SecurePolicy = CookieSecurePolicy.SameAsRequest;
                o.TokenValidationParameters.NameClaimType = "preferred_username";
            });
        builder.Services.AddAuthorization();
        await using var app = builder.Build();
        app.UseAuthentication();
        app.UseAuthorization();
        app.MapGet("/me", (ClaimsPrincipal user) =>
            $"{user.Identity!.Name}|{user.FindFirst("name")?.Value}|{string.Join(',', user.FindAll("groups").Select(c => c.Value))}|{string.Join(',', user.FindAll("roles").Select(c => c.Value))}")
            .RequireAuthorization();
        app.MapGet("/out", (HttpContext context) => Results.SignOut(new AuthenticationProperties { RedirectUri = "/" }, [CookieAuthenticationDefaults.AuthenticationScheme, OpenIdConnectDefaults.AuthenticationScheme]));
        await app.StartAsync(Ct);
        var address = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First().TrimEnd('/');

        var cookies = new CookieContainer();
        using var appClient = new HttpClient(new HttpClientHandler { CookieContainer = cookies, AllowAutoRedirect = false });
        using var oidcClient = new HttpClient(OidcEmulatorTests.TrustingOnly(oidc.CaFile));

        // The app sends the browser to /authorize; the user presses their button; the page posts the code back.
        using var challenge = await appClient.GetAsync(new Uri(address + "/me"), Ct);
        challenge.StatusCode.Should().Be(HttpStatusCode.Found);
        var authorize = challenge.Headers.Location!;
        authorize.GetLeftPart(UriPartial.Path).Should().Be(oidc.Issuer + "/authorize");
        authorize.Query.Should().Contain("code_challenge_method=S256").And.Contain("nonce=").And.Contain("response_mode=form_post");

        var page = await oidcClient.GetStringAsync(authorize, Ct);
        var fields = OidcEmulatorTests.Fields(page);
        fields["user"] = "u-olga";
        using var chosen = await oidcClient.PostAsync(new Uri(oidc.Issuer + "/authorize"), new FormUrlEncodedContent(fields), Ct);
        var formPost = await chosen.Content.ReadAsStringAsync(Ct);
        using var callback = await appClient.PostAsync(new Uri(address + "/signin-oidc"), new FormUrlEncodedContent(OidcEmulatorTests.Fields(formPost)), Ct);
        callback.StatusCode.Should().Be(HttpStatusCode.Found, await callback.Content.ReadAsStringAsync(Ct));

        using var me = await appClient.GetAsync(new Uri(address + "/me"), Ct);
        me.StatusCode.Should().Be(HttpStatusCode.OK);
        (await me.Content.ReadAsStringAsync(Ct)).Should().Be("olga@corp.example.com|Olga Operator|respond-operators|Console.Operator");
        oidc.Requests.Should().Contain(r => r.Path == "/token" && r.Status == 200);

        // Sign-out ends the provider's session too (RP-Initiated Logout) and comes back to the app.
        using var signOut = await appClient.GetAsync(new Uri(address + "/out"), Ct);
        var endSession = signOut.Headers.Location!;
        endSession.GetLeftPart(UriPartial.Path).Should().Be(oidc.Issuer + "/logout");
        using var loggedOut = await oidcClient.GetAsync(endSession, Ct);
        loggedOut.StatusCode.Should().Be(HttpStatusCode.Found);
        loggedOut.Headers.Location!.AbsoluteUri.Should().StartWith(address + "/signout-callback-oidc");
        oidc.SignedOut.Should().Equal("u-olga");
        using var after = await appClient.GetAsync(new Uri(address + "/me"), Ct);
        after.StatusCode.Should().Be(HttpStatusCode.Found, "the app's cookie is gone");
    }
}
