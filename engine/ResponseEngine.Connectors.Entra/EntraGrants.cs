using System.Text;
using System.Text.Json;
using Azure.Core;
using ResponseEngine.Execution;

namespace ResponseEngine.Connectors.Entra;

/// <summary>What the app registration was granted: the <c>roles</c> claim of its app-only access token for Graph.</summary>
public sealed partial class EntraConnector
{
    /// <summary>
    /// The application permissions consented for the app, as Entra writes them into the <c>roles</c> claim of the
    /// app-only token it issues (https://learn.microsoft.com/entra/identity-platform/access-token-claims-reference).
    /// The token is only decoded, not validated: it comes straight from the identity platform to us.
    /// </summary>
    public async Task<GrantedPermissions> ReadGrantedAsync(CancellationToken cancellationToken)
    {
        var token = await _transport.AppCredential.GetTokenAsync(new TokenRequestContext([_transport.Scope]), cancellationToken).ConfigureAwait(false);
        return Granted(token.Token);
    }

    /// <summary>The <c>roles</c> of a JWT access token; none (with the reason) when it is not a JWT or has no such claim.</summary>
    public static GrantedPermissions Granted(string accessToken)
    {
        ArgumentNullException.ThrowIfNull(accessToken);
        var parts = accessToken.Split('.');
        if (parts.Length != 3) return new GrantedPermissions([], false, "the access token is not a JWT, so it does not say which application permissions were granted");
        try
        {
            var payload = parts[1].Replace('-', '+').Replace('_', '/');
            payload = payload.PadRight(payload.Length + ((4 - (payload.Length % 4)) % 4), '=');
            using var claims = JsonDocument.Parse(Encoding.UTF8.GetString(Convert.FromBase64String(payload)));
            if (!claims.RootElement.TryGetProperty("roles", out var roles) || roles.ValueKind != JsonValueKind.Array)
            {
                return new GrantedPermissions([], true, "the app-only token has no roles claim: no application permission is consented");
            }

            return new GrantedPermissions([.. roles.EnumerateArray().Where(r => r.ValueKind == JsonValueKind.String).Select(r => r.GetString()!).Order(StringComparer.Ordinal)],
                true, "the roles claim of the app's access token");
        }
        catch (Exception e) when (e is FormatException or JsonException or ArgumentException)
        {
            return new GrantedPermissions([], false, "the access token's claims could not be read: " + e.Message);
        }
    }
}
