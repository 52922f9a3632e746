using System.Security.Cryptography;
using System.Text;
using Microsoft.AspNetCore.Antiforgery;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using ResponseEngine.Configuration;
using static ResponseEngine.Service.Console.Pages.HtmlText;

namespace ResponseEngine.Service.Console.Pages;

/// <summary>The page shell: navigation, who is signed in (with sign-out), the status line for results, and the security headers.</summary>
internal static class ConsolePage
{
    public const string Root = "/console";

    private static readonly (string Path, string Label)[] Nav =
    [
        (Root + "/", "Pending"),
        (Root + "/breaker", "Breaker and limits"),
        (Root + "/activity", "Activity"),
        (Root + "/runs", "Runs and rules"),
        (Root + "/health", "Health"),
    ];

    private static readonly byte[] CssBytes = Resource("console.css");
    private static readonly byte[] ScriptBytes = Resource("console.js");
    private static readonly string CssHash = Convert.ToHexStringLower(SHA256.HashData(CssBytes))[..12];
    private static readonly string ScriptHash = Convert.ToHexStringLower(SHA256.HashData(ScriptBytes))[..12];

    /// <summary>Renders <paramref name="body"/> in the shell; <paramref name="current"/> is the navigation entry to mark.</summary>
    public static IResult Render(HttpContext http, string title, string current, string body, int? pendingCount = null, int status = StatusCodes.Status200OK)
    {
        var user = ConsoleUser.From(http.User)!;
        var tokens = http.RequestServices.GetRequiredService<IAntiforgery>().GetAndStoreTokens(http);
        var html = new StringBuilder(8192);
        html.Add("<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\"><meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">")
            .Add($"<title>{E(title)} · respond console</title>")
            .Add($"<meta name=\"csrf-header\" content=\"{E(tokens.HeaderName ?? ConsoleAuth.AntiforgeryHeader)}\"><meta name=\"csrf-token\" content=\"{E(tokens.RequestToken)}\">")
            .Add($"<link rel=\"stylesheet\" href=\"{Root}/assets/console.css?v={CssHash}\"><script src=\"{Root}/assets/console.js?v={ScriptHash}\" defer></script>")
            .Add("</head><body><a class=\"skip\" href=\"#main\">Skip to content</a><header class=\"top\"><span class=\"brand\">respond console</span>")
            .Add("<nav aria-label=\"Console\"><ul>");
        foreach (var (path, label) in Nav)
        {
            var here = path == current ? " aria-current=\"page\"" : "";
            var count = path == Root + "/" && pendingCount is > 0 ? $" <span class=\"count\" aria-label=\"{N(pendingCount.Value)} waiting\">{N(pendingCount.Value)}</span>" : "";
            html.Add($"<li><a href=\"{path}\"{here}>{E(label)}{count}</a></li>");
        }

        html.Add("</ul></nav><div class=\"who\">")
            .Add($"<span data-testid=\"who\">{E(user.Name)} · <span data-testid=\"role\">{E(user.Role?.Name() ?? "no role")}</span></span>");
        if (user.Channel == ResponseEngine.Operations.OperatorChannel.Console)
        {
            html.Add($"<form method=\"post\" action=\"{ConsoleAuth.SignOutPath}\"><input type=\"hidden\" name=\"{E(tokens.FormFieldName)}\" value=\"{E(tokens.RequestToken)}\"><button type=\"submit\">Sign out</button></form>");
        }

        html.Add("</div></header><div id=\"flash\" role=\"status\" aria-live=\"polite\"></div>")
            .Add($"<main id=\"main\"><h1>{E(title)}</h1>")
            .Add(body)
            .Add("</main></body></html>");
        Secure(http.Response);
        return Results.Content(html.ToString(), "text/html; charset=utf-8", Encoding.UTF8, status);
    }

    /// <summary>The stylesheet or the script, compiled into the assembly.</summary>
    public static IResult Asset(HttpContext http, string name)
    {
        http.Response.Headers.XContentTypeOptions = "nosniff";
        http.Response.Headers.CacheControl = "public, max-age=86400";
        return name switch
        {
            "console.css" => Results.Bytes(CssBytes, "text/css; charset=utf-8"),
            "console.js" => Results.Bytes(ScriptBytes, "text/javascript; charset=utf-8"),
            _ => Results.NotFound(),
        };
    }

    /// <summary>No script or style from anywhere but this server, no framing, no referrer, nothing cached.</summary>
    public static void Secure(HttpResponse response)
    {
        response.Headers.ContentSecurityPolicy = "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'";
        response.Headers.XContentTypeOptions = "nosniff";
        response.Headers["Referrer-Policy"] = "no-referrer";
        response.Headers.XFrameOptions = "DENY";
        response.Headers.CacheControl = "no-store";
    }

    /// <summary>A reason box and buttons that call the API; <paramref name="buttons"/> are (label, API path, css class, page to show after).</summary>
    public static string ActionForm(string id, string legend, IEnumerable<(string Label, string Post, string Class, string? Then)> buttons, string? extra = null)
    {
        var html = new StringBuilder();
        html.Add($"<form class=\"act\" aria-label=\"{E(legend)}\" novalidate>")
            .Add($"<label for=\"reason-{E(id)}\">Reason (required, recorded in the audit with your name)</label>")
            .Add($"<textarea id=\"reason-{E(id)}\" name=\"reason\" required maxlength=\"2000\"></textarea>");
        if (extra is not null) html.Add(extra);
        html.Add("<div class=\"buttons\">");
        foreach (var (label, post, css, then) in buttons)
        {
            var after = then is null ? "" : $" data-then=\"{E(then)}\"";
            html.Add($"<button type=\"submit\" class=\"{E(css)}\" data-post=\"{E(post)}\"{after}>{E(label)}</button>");
        }

        return html.Add("<output aria-live=\"polite\"></output></div></form>").ToString();
    }

    /// <summary>Why the current person sees no button: the role it needs.</summary>
    public static string NeedsRole(ConsoleUser user, ConsoleRole needed, string what) =>
        $"<p class=\"note\" data-testid=\"needs-role\">You are signed in as {E(user.Role?.Name() ?? "no role")}: {E(what)} needs the {E(needed.Name())} role.</p>";

    private static byte[] Resource(string name)
    {
        using var stream = typeof(ConsolePage).Assembly.GetManifestResourceStream(name)
            ?? throw new InvalidOperationException($"the console's {name} is not compiled into the assembly");
        using var copy = new MemoryStream();
        stream.CopyTo(copy);
        return copy.ToArray();
    }
}
