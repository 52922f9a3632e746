using System.Net;
using System.Text.Json;
using ResponseEngine.Execution;

namespace ResponseEngine.Connectors.Okta;

/// <summary>Turns Okta's error answers into <see cref="ConnectorException"/>s whose message says what to do about them.</summary>
internal static class OktaErrors
{
    public const string ApiValidationFailed = "E0000001";
    public const string Forbidden = "E0000006";
    public const string NotFound = "E0000007";
    public const string InvalidToken = "E0000011";
    public const string RateLimited = "E0000047";

    public static OktaError? Parse(string body)
    {
        if (string.IsNullOrWhiteSpace(body)) return null;
        try
        {
            return JsonSerializer.Deserialize<OktaError>(body, OktaJson.Options);
        }
        catch (JsonException)
        {
            return null;
        }
    }

    /// <summary>The exception for a failed call; <paramref name="operation"/> names it in the engine's words.</summary>
    public static ConnectorException ToException(string operation, HttpStatusCode status, string body, string? scope, string? hint = null)
    {
        var error = Parse(body);
        var code = error?.ErrorCode ?? error?.OAuthError;
        var summary = error?.ErrorSummary ?? error?.OAuthErrorDescription;
        var causes = error is null || error.ErrorCauses.IsDefaultOrEmpty
            ? ""
            : " (" + string.Join("; ", error.ErrorCauses.Select(c => c.ErrorSummary).Where(s => !string.IsNullOrWhiteSpace(s))) + ")";
        var said = code is null ? $"HTTP {(int)status}" : $"{code} {summary}".TrimEnd();
        var reference = error?.ErrorId is { Length: > 0 } id ? $" [errorId {id}]" : "";
        var prefix = $"Okta refused to {operation}: {said}{causes}{reference}";

        return (status, code) switch
        {
            (HttpStatusCode.Unauthorized, _) => new ConnectorException(
                $"{prefix}. The API token or the service app's access token is not valid: check the token (it expires after 30 days unused) or the service app's key and client id."),
            (HttpStatusCode.Forbidden, _) => new ConnectorException(
                $"{prefix}. The engine's Okta identity may not do this: " +
                (scope is null ? "" : $"grant the service app the scope {scope} and ") +
                "give it (or the API token's user) an admin role that covers the target; super admins can only be changed by a super admin."),
            (HttpStatusCode.NotFound, _) => new ConnectorException($"{prefix}. The user or group does not exist (or was deleted) in this Okta org."),
            (HttpStatusCode.BadRequest, ApiValidationFailed) => new ConnectorException(
                $"{prefix}. The user is not in a status this operation applies to{(hint is null ? "" : ": " + hint)}."),
            ((HttpStatusCode)429, _) => new ConnectorException($"{prefix}. Okta's rate limit stayed exhausted through every retry; the action can be retried later.", transient: true),
            (_, _) when (int)status >= 500 => new ConnectorException($"{prefix}. Okta is unavailable; the action can be retried later.", transient: true),
            _ => new ConnectorException(prefix + "."),
        };
    }
}

/// <summary>Okta speaks camelCase JSON.</summary>
internal static class OktaJson
{
    public static JsonSerializerOptions Options { get; } = new(JsonSerializerDefaults.Web);
}
