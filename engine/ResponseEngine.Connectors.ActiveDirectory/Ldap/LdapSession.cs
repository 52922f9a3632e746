using System.DirectoryServices.Protocols;
using System.Net;
using System.Runtime.InteropServices;
using System.Security.Cryptography.X509Certificates;

namespace ResponseEngine.Connectors.ActiveDirectory.Ldap;

/// <summary>Sends LDAP requests to one domain controller; the seam the connector's tests replace.</summary>
internal interface ILdapSession : IDisposable
{
    Task<DirectoryResponse> SendAsync(DirectoryRequest request, CancellationToken cancellationToken);
}

/// <summary>
/// One bound LDAPS connection, opened on first use and again after the DC dropped it. Certificate validation is on
/// unless the lab switch says otherwise: on Linux trust comes from libldap (a trust directory and a new TLS context,
/// never VerifyServerCertificate, which breaks every bind there), on Windows from a chain built against the bundle.
/// </summary>
internal sealed class LdapSession : ILdapSession
{
    private readonly AdConnectorOptions _options;
    private readonly string? _password;
    private readonly string? _trustDirectory;
    private readonly bool _ownsTrustDirectory;
    private readonly X509Certificate2Collection? _windowsTrust;
    private readonly SemaphoreSlim _gate = new(1, 1);
    private LdapConnection? _connection;

    public LdapSession(AdConnectorOptions options, string? password)
    {
        _options = options;
        _password = password;
        if (options.CaBundle is { } bundle && !options.InsecureSkipCertificateValidation)
        {
            if (OperatingSystem.IsWindows())
            {
                _windowsTrust = [];
                _windowsTrust.ImportFromPemFile(bundle);
            }
            else if (Directory.Exists(bundle))
            {
                _trustDirectory = bundle;
            }
            else
            {
                _trustDirectory = SplitBundle(bundle);
                _ownsTrustDirectory = true;
            }
        }
    }

    public async Task<DirectoryResponse> SendAsync(DirectoryRequest request, CancellationToken cancellationToken)
    {
        await _gate.WaitAsync(cancellationToken);
        try
        {
            var connection = _connection ??= await Task.Run(Connect, cancellationToken);
            try
            {
                return await Task.Run(() => connection.SendRequest(request), cancellationToken);
            }
            catch (LdapException e) when (e.ErrorCode is LdapFault.ServerDown or LdapFault.LocalError)
            {
                Drop();
                throw;
            }
        }
        finally
        {
            _gate.Release();
        }
    }

    public void Dispose()
    {
        Drop();
        _gate.Dispose();
        if (_ownsTrustDirectory && _trustDirectory is not null)
        {
            try
            {
                Directory.Delete(_trustDirectory, recursive: true);
            }
            catch (IOException)
            {
                // A leftover copy of public CA certificates in the temp folder harms nobody.
            }
        }
    }

    private void Drop()
    {
        _connection?.Dispose();
        _connection = null;
    }

    private LdapConnection Connect()
    {
        var identifier = new LdapDirectoryIdentifier(_options.Server, _options.Port, fullyQualifiedDnsHostName: false, connectionless: false);
        var connection = OperatingSystem.IsWindows() || !_options.InsecureSkipCertificateValidation
            ? new LdapConnection(identifier)
            : LibLdap.WithoutCertificateCheck(() => new LdapConnection(identifier));
        try
        {
            connection.AuthType = _options.Authentication == AdAuthentication.Negotiate ? AuthType.Negotiate : AuthType.Basic;
            if (_options.BindDn is { Length: > 0 } user) connection.Credential = new NetworkCredential(user, _password);
            connection.Timeout = _options.Timeout;
            connection.SessionOptions.ProtocolVersion = 3;
            connection.SessionOptions.SecureSocketLayer = true;
            connection.SessionOptions.ReferralChasing = ReferralChasingOptions.None;
            if (OperatingSystem.IsWindows())
            {
                if (_options.InsecureSkipCertificateValidation) connection.SessionOptions.VerifyServerCertificate = (_, _) => true;
                else if (_windowsTrust is not null) connection.SessionOptions.VerifyServerCertificate = (_, certificate) => ChainsTo(certificate, _windowsTrust);
            }
            else
            {
                if (_trustDirectory is not null) connection.SessionOptions.TrustedCertificatesDirectory = _trustDirectory;
                if (_trustDirectory is not null || _options.InsecureSkipCertificateValidation) connection.SessionOptions.StartNewTlsSessionContext();
            }

            connection.Bind();
            return connection;
        }
        catch
        {
            connection.Dispose();
            throw;
        }
    }

    private static bool ChainsTo(X509Certificate certificate, X509Certificate2Collection trust)
    {
        using var leaf = X509CertificateLoader.LoadCertificate(certificate.GetRawCertData());
        using var chain = new X509Chain();
        chain.ChainPolicy.TrustMode = X509ChainTrustMode.CustomRootTrust;
        chain.ChainPolicy.CustomTrustStore.AddRange(trust);
        chain.ChainPolicy.RevocationMode = X509RevocationMode.NoCheck;
        return chain.Build(leaf);
    }

    /// <summary>A private folder with one PEM file per certificate of the bundle, as libldap's CA directory wants it.</summary>
    private static string SplitBundle(string bundle)
    {
        var certificates = new X509Certificate2Collection();
        try
        {
            certificates.ImportFromPemFile(bundle);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or System.Security.Cryptography.CryptographicException)
        {
            throw new AdConfigurationException($"connectors.ad.ca_bundle '{bundle}' is not a readable PEM file: {e.Message}", e);
        }

        if (certificates.Count == 0) throw new AdConfigurationException($"connectors.ad.ca_bundle '{bundle}' holds no certificate");
        var folder = Directory.CreateTempSubdirectory("respond-ad-ca-").FullName;
        for (var i = 0; i < certificates.Count; i++)
        {
            File.WriteAllText(Path.Combine(folder, $"ca-{i}.pem"), certificates[i].ExportCertificatePem());
            certificates[i].Dispose();
        }

        return folder;
    }
}

/// <summary>
/// The one libldap option System.DirectoryServices.Protocols does not expose: TLS_REQCERT. libldap copies its global
/// options into a handle when the handle is created, so the lab switch lowers the global default around the creation of
/// one connection, under a lock, and puts it back at once.
/// </summary>
internal static class LibLdap
{
    private const int OptionTlsRequireCertificate = 0x6006;
    private const int Never = 0;
    private static readonly Lock Gate = new();
    private static readonly Lazy<SetOption?> Setter = new(Load);
    private static GetOption? _getter;

    [UnmanagedFunctionPointer(CallingConvention.Cdecl)]
    private delegate int SetOption(IntPtr handle, int option, ref int value);

    [UnmanagedFunctionPointer(CallingConvention.Cdecl)]
    private delegate int GetOption(IntPtr handle, int option, out int value);

    public static T WithoutCertificateCheck<T>(Func<T> create)
    {
        var set = Setter.Value ?? throw new AdConfigurationException("connectors.ad.insecure_skip_certificate_validation: libldap was not found, so certificate checks cannot be turned off");
        lock (Gate)
        {
            var previous = 2;
            _getter?.Invoke(IntPtr.Zero, OptionTlsRequireCertificate, out previous);
            var never = Never;
            if (set(IntPtr.Zero, OptionTlsRequireCertificate, ref never) != 0) throw new AdConfigurationException("libldap refused LDAP_OPT_X_TLS_REQUIRE_CERT");
            try
            {
                return create();
            }
            finally
            {
                set(IntPtr.Zero, OptionTlsRequireCertificate, ref previous);
            }
        }
    }

    private static SetOption? Load()
    {
        // The names System.DirectoryServices.Protocols itself tries, then the versioned ones distributions ship.
        foreach (var name in new[] { "libldap.so.2", "libldap-2.6.so.0", "libldap-2.5.so.0", "libldap-2.4.so.2", "libldap.so" })
        {
            if (!NativeLibrary.TryLoad(name, out var library)) continue;
            if (NativeLibrary.TryGetExport(library, "ldap_get_option", out var get))
            {
                _getter = Marshal.GetDelegateForFunctionPointer<GetOption>(get);
            }

            return NativeLibrary.TryGetExport(library, "ldap_set_option", out var set) ? Marshal.GetDelegateForFunctionPointer<SetOption>(set) : null;
        }

        return null;
    }
}
