using System.Net;
using System.Security.Cryptography.X509Certificates;
using Azure.Core;
using Azure.Identity;
using Microsoft.Graph;
using Microsoft.Graph.Models.ODataErrors;
using Microsoft.Kiota.Abstractions;
using Microsoft.Kiota.Authentication.Azure;
using Microsoft.Kiota.Http.HttpClientLibrary.Middleware;
using ResponseEngine.Execution;

namespace ResponseEngine.Connectors.Entra;

/// <summary>
/// The Graph SDK as the connector uses it: the SDK's own middleware minus its wall-clock retry handler, replaced by
/// <see cref="GraphRetryHandler"/>; app-only tokens from Azure.Identity (or any <see cref="TokenCredential"/>); the
/// service root from the options.
/// </summary>
internal sealed class GraphTransport : IDisposable
{
    private GraphTransport(GraphServiceClient client, HttpClient http, GraphRetryHandler retry, TokenCredential credential, string scope)
    {
        Client = client;
        Http = http;
        Retry = retry;
        AppCredential = credential;
        Scope = scope;
    }

    /// <summary>The app's credential, for reading its own token's claims (`respond doctor`).</summary>
    public TokenCredential AppCredential { get; }

    /// <summary>The token scope: the service root's <c>/.default</c>.</summary>
    public string Scope { get; }

    public GraphServiceClient Client { get; }

    public HttpClient Http { get; }

    public GraphRetryHandler Retry { get; }

    public static GraphTransport Create(EntraOptions options, TokenCredential credential, TimeProvider time, PolicyWritePacer pacer, HttpMessageHandler? finalHandler)
    {
        var retry = new GraphRetryHandler(time, options, pacer);
        var handlers = GraphClientFactory.CreateDefaultHandlers().ToList();
        var at = handlers.FindIndex(h => h is RetryHandler);
        if (at >= 0) handlers[at] = retry;
        else handlers.Insert(0, retry);
        var http = GraphClientFactory.Create(handlers, finalHandler: finalHandler ?? new SocketsHttpHandler
        {
            AutomaticDecompression = DecompressionMethods.All,
            PooledConnectionLifetime = TimeSpan.FromMinutes(5),
        });
        http.Timeout = Timeout.InfiniteTimeSpan;
        var scope = $"{options.BaseUrl.Scheme}://{options.BaseUrl.Authority}/.default";
        var auth = new AzureIdentityAuthenticationProvider(credential, [options.BaseUrl.Host], null, true, scope);
        var client = new GraphServiceClient(http, auth, options.BaseUrl.AbsoluteUri.TrimEnd('/'));
        return new GraphTransport(client, http, retry, credential, scope);
    }

    /// <summary>The app's credential: a client secret or a certificate (PFX with optional password, or PEM with the key).</summary>
    public static TokenCredential Credential(EntraOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        if (options.Auth == EntraAuthMode.ClientSecret)
        {
            return new ClientSecretCredential(options.TenantId, options.ClientId, options.ClientSecret,
                new ClientSecretCredentialOptions { AuthorityHost = AuthorityHost(options), DisableInstanceDiscovery = !IsAzureCloud(AuthorityHost(options)) });
        }

        X509Certificate2 certificate;
        try
        {
            var path = options.CertificatePath!;
            certificate = path.EndsWith(".pem", StringComparison.OrdinalIgnoreCase) || path.EndsWith(".crt", StringComparison.OrdinalIgnoreCase)
                ? X509Certificate2.CreateFromPemFile(path)
                : X509CertificateLoader.LoadPkcs12FromFile(path, options.CertificatePassword);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or System.Security.Cryptography.CryptographicException)
        {
            throw new ArgumentException($"connectors.entra.certificate_file: cannot load {options.CertificatePath}: {e.Message}", nameof(options), e);
        }

        if (!certificate.HasPrivateKey)
        {
            throw new ArgumentException($"connectors.entra.certificate_file: {options.CertificatePath} holds no private key; the app signs its assertions with it", nameof(options));
        }

        return new ClientCertificateCredential(options.TenantId, options.ClientId, certificate,
            new ClientCertificateCredentialOptions
            {
                AuthorityHost = AuthorityHost(options),
                DisableInstanceDiscovery = !IsAzureCloud(AuthorityHost(options)),
                SendCertificateChain = false,
            });
    }

    private static Uri AuthorityHost(EntraOptions options) => options.AuthorityHost ?? AzureAuthorityHosts.AzurePublicCloud;

    /// <summary>
    /// Whether the authority is one of the Azure clouds whose metadata Microsoft's instance discovery validates. Any other
    /// authority_host (Azure Stack, a private cloud, a test identity platform) cannot be discovered there, so Azure.Identity
    /// is told to use it as configured: the operator's authority_host is then trusted as given.
    /// </summary>
    internal static bool IsAzureCloud(Uri authority) =>
        new[] { AzureAuthorityHosts.AzurePublicCloud, AzureAuthorityHosts.AzureGovernment, AzureAuthorityHosts.AzureChina }
            .Any(known => string.Equals(known.Host, authority.Host, StringComparison.OrdinalIgnoreCase));

    public void Dispose() => Http.Dispose();
}

/// <summary>Graph's answers made readable: code and message kept, transient for throttling, unavailability and transport faults.</summary>
internal static class GraphErrors
{
    public const string NotFound = "Request_ResourceNotFound";

    public static bool IsNotFound(Exception e) =>
        e is ODataError { ResponseStatusCode: 404 } || (e is ApiException { ResponseStatusCode: 404 });

    public static ConnectorException Map(Exception e, string operation)
    {
        ArgumentNullException.ThrowIfNull(e);
        return e switch
        {
            ConnectorException known => known,
            ODataError odata => new ConnectorException(
                $"Graph {odata.ResponseStatusCode} {odata.Error?.Code}: {odata.Error?.Message} ({operation}){Hint(odata.ResponseStatusCode, odata.Error?.Code)}",
                Transient(odata.ResponseStatusCode), odata),
            ApiException api => new ConnectorException($"Graph {api.ResponseStatusCode}: {api.Message} ({operation})", Transient(api.ResponseStatusCode), api),
            TimeoutException timeout => new ConnectorException($"{timeout.Message} ({operation}); the outcome is unknown", true, timeout),
            HttpRequestException http => new ConnectorException($"Graph could not be reached: {http.Message} ({operation})", true, http),
            AuthenticationFailedException auth => new ConnectorException($"Entra sign-in failed: {SignInReason(auth)} ({operation})", false, auth),
            _ => new ConnectorException($"{e.GetType().Name}: {e.Message} ({operation})", false, e),
        };
    }

    /// <summary>
    /// Azure.Identity's own message can end before the reason ("ClientSecretCredential authentication failed: "); the
    /// identity platform's answer (AADSTS code and description) is in MSAL's exception inside it.
    /// </summary>
    private static string SignInReason(AuthenticationFailedException auth) =>
        auth.InnerException is { Message: { Length: > 0 } inner } ? inner.Trim() : auth.Message.Trim();

    private static bool Transient(int status) => status is 429 or 503 or 504 or 500 or 502;

    private static string Hint(int status, string? code) => (status, code) switch
    {
        (403, _) => "; grant the app the Graph application permission this action needs (respond permissions lists them) and admin-consent it",
        (401, _) => "; check tenant_id, client_id and the credential",
        (429, _) => "; still throttled after every retry",
        _ => "",
    };
}
