using System.Security.Claims;
using System.Text.Encodings.Web;
using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Authentication.Cookies;
using Microsoft.AspNetCore.Authentication.OpenIdConnect;
using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.DataProtection;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Microsoft.IdentityModel.Protocols.OpenIdConnect;
using ResponseEngine.Configuration;
using ResponseEngine.Diagnostics;
using ResponseEngine.Operations;

namespace ResponseEngine.Service.Console;

/// <summary>Who is calling the console or its API: the name recorded as the audit's actor, the role (null: signed in but granted none), and the channel.</summary>
public sealed record ConsoleUser(string Name, ConsoleRole? Role, OperatorChannel Channel)
{
    public OperatorIdentity Operator => new(Name, Channel);

    public bool Can(ConsoleRole needed) => Role is { } role && role >= needed;

    /// <summary>The caller of a request authenticated by the console's schemes; null when anonymous.</summary>
    public static ConsoleUser? From(ClaimsPrincipal? principal)
    {
        if (principal?.Identity?.IsAuthenticated != true || principal.FindFirst(ConsoleAuth.NameClaim)?.Value is not { } name) return null;
        ConsoleRole? role = ConsoleRoles.TryParse(principal.FindFirst(ConsoleAuth.RoleClaim)?.Value, out var parsed) ? parsed : null;
        var channel = principal.FindFirst(ConsoleAuth.ChannelClaim)?.Value == "api" ? OperatorChannel.Api : OperatorChannel.Console;
        return new ConsoleUser(name, role, channel);
    }
}

/// <summary>
/// Authentication and authorization of the console: people sign in with OpenID Connect (authorization code + PKCE)
/// into a cookie; scripts send `Authorization: Bearer TOKEN` (an API token of respond.yaml, matched by its SHA-256).
/// Role policies viewer &lt; approver &lt; operator guard every endpoint; a cookie-authenticated state change must carry
/// the anti-forgery token (header <see cref="AntiforgeryHeader"/> or the form field), a bearer token needs none.
/// </summary>
public static class ConsoleAuth
{
    public const string Scheme = "respond";
    public const string CookieScheme = "respond-console";
    public const string OidcScheme = "oidc";
    public const string TokenScheme = "respond-token";

    public const string NameClaim = "respond_name";
    public const string RoleClaim = "respond_role";
    public const string ChannelClaim = "respond_channel";

    public const string ViewerPolicy = "console-viewer";
    public const string ApproverPolicy = "console-approver";
    public const string OperatorPolicy = "console-operator";

    public const string AntiforgeryHeader = "X-CSRF-TOKEN";
    public const string AntiforgeryField = "__RequestVerificationToken";
    public const string CookieName = "respond.console";

    public const string SignInPath = "/console/signin";
    public const string SignOutPath = "/console/signout";
    public const string CallbackPath = "/console/signin-oidc";

    public static string Policy(ConsoleRole role) => role switch
    {
        ConsoleRole.Viewer => ViewerPolicy,
        ConsoleRole.Approver => ApproverPolicy,
        _ => OperatorPolicy,
    };

    /// <summary>The role the claims grant: the highest of every role-claim value (and the name) mapped in console.roles; null for none.</summary>
    public static ConsoleRole? RoleFor(ConsoleOptions options, IEnumerable<Claim> claims, string name)
    {
        ArgumentNullException.ThrowIfNull(options);
        var claimTypes = options.Oidc?.RoleClaims ?? [];
        ConsoleRole? best = options.Roles.TryGetValue(name, out var byName) ? byName : null;
        foreach (var claim in claims)
        {
            if (!claimTypes.Contains(claim.Type, StringComparer.Ordinal)) continue;
            if (options.Roles.TryGetValue(claim.Value, out var role) && (best is null || role > best)) best = role;
        }

        return best;
    }

    /// <summary>The application name the data-protection keys are bound to: instances sharing a key directory read each other's cookies whatever their working directory.</summary>
    public const string DataProtectionApplication = "respond-console";

    public static void Add(IServiceCollection services, ConsoleOptions options, ConsoleCredentials credentials, string keyDirectory)
    {
        services.AddSingleton(credentials);

        // The session and anti-forgery cookies are protected with keys kept in a directory (not in memory, ASP.NET's default
        // in a container): a restart or another instance on the same directory keeps people signed in and their forms valid.
        Directory.CreateDirectory(keyDirectory);
        services.AddDataProtection().SetApplicationName(DataProtectionApplication).PersistKeysToFileSystem(new DirectoryInfo(keyDirectory));
        var auth = services.AddAuthentication(o =>
            {
                o.DefaultScheme = Scheme;
                o.DefaultChallengeScheme = Scheme;
            })
            .AddPolicyScheme(Scheme, "respond console", o => o.ForwardDefaultSelector = http =>
                http.Request.Headers.Authorization.ToString().StartsWith("Bearer ", StringComparison.OrdinalIgnoreCase) ? TokenScheme : CookieScheme)
            .AddScheme<AuthenticationSchemeOptions, ApiTokenHandler>(TokenScheme, null)
            .AddCookie(CookieScheme, o =>
            {
                o.Cookie.Name = CookieName;
                o.Cookie.HttpOnly = true;
                o.Cookie.SameSite = SameSiteMode.Lax;
                o.Cookie.SecurePolicy = CookieSecurePolicy.SameAsRequest;
                o.ExpireTimeSpan = options.SessionIdle;
                o.SlidingExpiration = true;
                o.LoginPath = SignInPath;
                o.Events.OnRedirectToLogin = context => Refuse(context, StatusCodes.Status401Unauthorized, isLogin: true);
                o.Events.OnRedirectToAccessDenied = context => Refuse(context, StatusCodes.Status403Forbidden, isLogin: false);
            });
        if (options.Oidc is { } oidc)
        {
            auth.AddOpenIdConnect(OidcScheme, o =>
            {
                o.Authority = oidc.Authority;
                o.ClientId = oidc.ClientId;
                o.ClientSecret = credentials.ClientSecret;
                o.ResponseType = OpenIdConnectResponseType.Code;
                o.UsePkce = true;
                o.SaveTokens = false;
                o.MapInboundClaims = false;
                o.GetClaimsFromUserInfoEndpoint = false;
                o.SignInScheme = CookieScheme;
                o.CallbackPath = CallbackPath;
                o.RequireHttpsMetadata = !new Uri(oidc.Authority).IsLoopback;

                // The correlation and nonce cookies stay Secure and SameSite=None (the handler's defaults): the provider's
                // form_post comes back cross-site, and a browser drops a SameSite=None cookie that is not Secure
                // (browsers treat http://127.0.0.1 as secure, so a loopback console signs in too).
                o.Scope.Clear();
                o.Scope.Add("openid");
                o.Scope.Add("profile");
                o.Scope.Add("email");
                o.Events.OnTokenValidated = context =>
                {
                    // The cookie keeps only what the console needs: the name, the role the claims grant, the channel.
                    var claims = context.Principal?.Claims.ToList() ?? [];
                    var name = First(claims, oidc.NameClaim, "preferred_username", "email", "name", "sub") ?? "unknown";
                    var role = RoleFor(options, claims, name);
                    var kept = new List<Claim> { new(NameClaim, name), new(ChannelClaim, "console") };
                    if (role is { } r) kept.Add(new Claim(RoleClaim, r.Name()));
                    if (First(claims, "sub") is { } sub) kept.Add(new Claim("sub", sub));
                    context.Principal = new ClaimsPrincipal(new ClaimsIdentity(kept, OidcScheme, NameClaim, RoleClaim));
                    return Task.CompletedTask;
                };
            });
        }

        services.AddAuthorizationBuilder()
            .AddPolicy(ViewerPolicy, p => p.AddAuthenticationSchemes(Scheme).RequireAssertion(c => ConsoleUser.From(c.User)?.Can(ConsoleRole.Viewer) == true))
            .AddPolicy(ApproverPolicy, p => p.AddAuthenticationSchemes(Scheme).RequireAssertion(c => ConsoleUser.From(c.User)?.Can(ConsoleRole.Approver) == true))
            .AddPolicy(OperatorPolicy, p => p.AddAuthenticationSchemes(Scheme).RequireAssertion(c => ConsoleUser.From(c.User)?.Can(ConsoleRole.Operator) == true));
        services.AddAntiforgery(o =>
        {
            o.HeaderName = AntiforgeryHeader;
            o.FormFieldName = AntiforgeryField;
            o.Cookie.Name = "respond.csrf";
            o.Cookie.SecurePolicy = CookieSecurePolicy.SameAsRequest;
        });
    }

    private static string? First(List<Claim> claims, params string[] types)
    {
        foreach (var type in types)
        {
            if (claims.FirstOrDefault(c => c.Type == type && !string.IsNullOrWhiteSpace(c.Value)) is { } claim) return claim.Value;
        }

        return null;
    }

    /// <summary>The API answers 401/403 as problem details; a page sends a person to sign in (with OIDC configured) or answers the status.</summary>
    private static async Task Refuse(RedirectContext<CookieAuthenticationOptions> context, int status, bool isLogin)
    {
        var request = context.Request;
        var options = context.HttpContext.RequestServices.GetRequiredService<ServeSetup>().Options.Console;
        if (isLogin && options.Oidc is not null && !request.Path.StartsWithSegments("/v1") && HttpMethods.IsGet(request.Method))
        {
            context.Response.Redirect(context.RedirectUri);
            return;
        }

        await Problems.Write(context.HttpContext, status, status == StatusCodes.Status401Unauthorized ? "sign in required" : "forbidden",
            status == StatusCodes.Status401Unauthorized
                ? "sign in to the console, or send an API token as 'Authorization: Bearer TOKEN'"
                : "your role does not allow this");
    }
}

/// <summary>`Authorization: Bearer TOKEN` against the API tokens of respond.yaml (by SHA-256, in constant time); the token's name is the actor.</summary>
internal sealed class ApiTokenHandler(IOptionsMonitor<AuthenticationSchemeOptions> options, ILoggerFactory logger, UrlEncoder encoder, ConsoleCredentials credentials)
    : AuthenticationHandler<AuthenticationSchemeOptions>(options, logger, encoder)
{
    protected override Task<AuthenticateResult> HandleAuthenticateAsync()
    {
        var header = Request.Headers.Authorization.ToString();
        if (!header.StartsWith("Bearer ", StringComparison.OrdinalIgnoreCase)) return Task.FromResult(AuthenticateResult.NoResult());
        var token = header["Bearer ".Length..].Trim();
        if (token.Length == 0 || credentials.Match(token) is not { } match) return Task.FromResult(AuthenticateResult.Fail("unknown API token"));
        var identity = new ClaimsIdentity(
            [new Claim(ConsoleAuth.NameClaim, match.Name), new Claim(ConsoleAuth.RoleClaim, match.Role.Name()), new Claim(ConsoleAuth.ChannelClaim, "api")],
            ConsoleAuth.TokenScheme, ConsoleAuth.NameClaim, ConsoleAuth.RoleClaim);
        return Task.FromResult(AuthenticateResult.Success(new AuthenticationTicket(new ClaimsPrincipal(identity), ConsoleAuth.TokenScheme)));
    }

    protected override async Task HandleChallengeAsync(AuthenticationProperties properties)
    {
        Response.Headers.WWWAuthenticate = "Bearer";
        await Problems.Write(Context, StatusCodes.Status401Unauthorized, "sign in required", "the API token is missing or unknown");
    }

    protected override Task HandleForbiddenAsync(AuthenticationProperties properties) =>
        Problems.Write(Context, StatusCodes.Status403Forbidden, "forbidden", "this token's role does not allow this");
}

/// <summary>RFC 7807 problem details, every error of the console API.</summary>
public static class Problems
{
    public static Task Write(HttpContext context, int status, string title, string detail)
    {
        ArgumentNullException.ThrowIfNull(context);
        return Results.Problem(detail: Printable.Escape(detail), statusCode: status, title: title).ExecuteAsync(context);
    }

    public static IResult Result(int status, string title, string detail) => Results.Problem(detail: Printable.Escape(detail), statusCode: status, title: title);
}
