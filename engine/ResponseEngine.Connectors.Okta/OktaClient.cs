using System.Net;
using System.Net.Http.Headers;
using System.Text.Json;
using System.Text.RegularExpressions;
using ResponseEngine.Execution;

namespace ResponseEngine.Connectors.Okta;

/// <summary>
/// A typed client for the few Okta management API endpoints the engine uses: authorisation, per-bucket rate limiting,
/// retries on 429 / 5xx / timeouts (the last two only for calls that are safe to repeat), Link paging, error mapping.
/// All waiting is on the injected <see cref="TimeProvider"/>.
/// </summary>
internal sealed partial class OktaClient
{
    private static readonly TimeSpan RateLimitFallback = TimeSpan.FromSeconds(60);

    private readonly HttpClient _http;
    private readonly OktaOptions _options;
    private readonly TimeProvider _time;
    private readonly IOktaAuthorization _auth;

    public OktaClient(HttpClient http, OktaOptions options, TimeProvider time, IOktaAuthorization auth)
    {
        _http = http;
        _options = options;
        _time = time;
        _auth = auth;
        Gate = new OktaRateGate(time, options.RateLimitReserve, options.ResetSkew);
    }

    public OktaRateGate Gate { get; }

    /// <summary>Okta user ids and logins go into the path escaped: +, /, @, spaces and non-ASCII included.</summary>
    public static string Escape(string idOrLogin) => Uri.EscapeDataString(idOrLogin);

    public async Task<OktaUser?> GetUserAsync(string idOrLogin, CancellationToken cancellationToken)
    {
        // "." and ".." are path segments, not names, even escaped: /users/.. would read the user list. Such a login
        // can only be found by the exact search.
        if (idOrLogin is "" or "." or "..") return null;
        var response = await SendAsync(HttpMethod.Get, $"/api/v1/users/{Escape(idOrLogin)}", "read the user", OktaScopes.UsersRead,
            idempotent: true, allowNotFound: true, cancellationToken).ConfigureAwait(false);
        return response is null ? null : Deserialize<OktaUser>(response.Body);
    }

    /// <summary>Users whose login or primary e-mail is exactly <paramref name="name"/>, whatever their status.</summary>
    public Task<List<OktaUser>> FindUsersAsync(string name, CancellationToken cancellationToken)
    {
        var quoted = "\"" + name.Replace("\\", "\\\\", StringComparison.Ordinal).Replace("\"", "\\\"", StringComparison.Ordinal) + "\"";
        var search = $"profile.login eq {quoted} or profile.email eq {quoted}";
        return ListAsync<OktaUser>($"/api/v1/users?search={Uri.EscapeDataString(search)}&limit={_options.PageSize}", "search users", OktaScopes.UsersRead, cancellationToken);
    }

    /// <summary>POST /api/v1/users/{id}/lifecycle/{operation} with an empty body (Content-Length: 0).</summary>
    public Task LifecycleAsync(string userId, string operation, string hint, CancellationToken cancellationToken)
    {
        var query = operation == "deactivate" ? "?sendEmail=false" : "";
        return SendAsync(HttpMethod.Post, $"/api/v1/users/{Escape(userId)}/lifecycle/{operation}{query}", $"{operation.Replace('_', ' ')} user {userId}",
            OktaScopes.UsersManage, idempotent: false, allowNotFound: false, cancellationToken, hint);
    }

    /// <summary>Ends every Okta session of the user and revokes the OAuth tokens issued to them.</summary>
    public Task ClearSessionsAsync(string userId, CancellationToken cancellationToken) =>
        SendAsync(HttpMethod.Delete, $"/api/v1/users/{Escape(userId)}/sessions?oauthTokens=true", $"clear the sessions of user {userId}",
            OktaScopes.UsersManage, idempotent: true, allowNotFound: false, cancellationToken);

    public Task<List<OktaGroup>> ListUserGroupsAsync(string userId, CancellationToken cancellationToken) =>
        ListAsync<OktaGroup>($"/api/v1/users/{Escape(userId)}/groups?limit={_options.PageSize}", $"list the groups of user {userId}", OktaScopes.GroupsRead, cancellationToken);

    /// <summary>Every user but DEPROVISIONED ones (Okta's default listing), paged through the Link header.</summary>
    public Task<List<OktaUser>> ListUsersAsync(CancellationToken cancellationToken) =>
        ListAsync<OktaUser>($"/api/v1/users?limit={_options.PageSize}", "list the users", OktaScopes.UsersRead, cancellationToken);

    public Task<List<OktaGroup>> ListGroupsAsync(CancellationToken cancellationToken) =>
        ListAsync<OktaGroup>($"/api/v1/groups?limit={_options.PageSize}", "list the groups", OktaScopes.GroupsRead, cancellationToken);

    public Task<List<OktaGroupRule>> ListGroupRulesAsync(CancellationToken cancellationToken) =>
        ListAsync<OktaGroupRule>($"/api/v1/groups/rules?limit={_options.PageSize}", "list group rules", OktaScopes.GroupsRead, cancellationToken);

    public Task<List<OktaGroup>> FindGroupsAsync(string name, CancellationToken cancellationToken)
    {
        var search = "profile.name eq \"" + name.Replace("\\", "\\\\", StringComparison.Ordinal).Replace("\"", "\\\"", StringComparison.Ordinal) + "\"";
        return ListAsync<OktaGroup>($"/api/v1/groups?search={Uri.EscapeDataString(search)}&limit={_options.PageSize}", $"find group '{name}'", OktaScopes.GroupsRead, cancellationToken);
    }

    public Task<List<OktaUser>> ListGroupMembersAsync(string groupId, CancellationToken cancellationToken) =>
        ListAsync<OktaUser>($"/api/v1/groups/{Escape(groupId)}/users?limit={_options.PageSize}", $"list the members of group {groupId}", OktaScopes.GroupsRead, cancellationToken);

    public Task RemoveGroupMemberAsync(string groupId, string userId, CancellationToken cancellationToken) =>
        SendAsync(HttpMethod.Delete, $"/api/v1/groups/{Escape(groupId)}/users/{Escape(userId)}", $"remove user {userId} from group {groupId}",
            OktaScopes.GroupsManage, idempotent: true, allowNotFound: false, cancellationToken);

    public Task AddGroupMemberAsync(string groupId, string userId, CancellationToken cancellationToken) =>
        SendAsync(HttpMethod.Put, $"/api/v1/groups/{Escape(groupId)}/users/{Escape(userId)}", $"add user {userId} to group {groupId}",
            OktaScopes.GroupsManage, idempotent: true, allowNotFound: false, cancellationToken);

    public async Task<List<OktaRole>> ListUserRolesAsync(string userId, CancellationToken cancellationToken)
    {
        var response = await SendAsync(HttpMethod.Get, $"/api/v1/users/{Escape(userId)}/roles", $"list the admin roles of user {userId}", OktaScopes.RolesRead,
            idempotent: true, allowNotFound: false, cancellationToken).ConfigureAwait(false);
        return Deserialize<List<OktaRole>>(response!.Body);
    }

    /// <summary>The admin roles assigned to a group (its members hold them).</summary>
    public async Task<List<OktaRole>> ListGroupRolesAsync(string groupId, CancellationToken cancellationToken)
    {
        var response = await SendAsync(HttpMethod.Get, $"/api/v1/groups/{Escape(groupId)}/roles", $"list the admin roles of group {groupId}", OktaScopes.RolesRead,
            idempotent: true, allowNotFound: false, cancellationToken).ConfigureAwait(false);
        return Deserialize<List<OktaRole>>(response!.Body);
    }

    /// <summary>Ids of users holding at least one admin role assigned to them directly (paged through <c>_links.next</c>).</summary>
    public async Task<List<string>> ListRoleAssigneesAsync(CancellationToken cancellationToken)
    {
        var ids = new List<string>();
        string? next = $"/api/v1/iam/assignees/users?limit={_options.PageSize}";
        while (next is not null)
        {
            var response = await SendAsync(HttpMethod.Get, next, "list the users holding admin roles", OktaScopes.RolesRead,
                idempotent: true, allowNotFound: false, cancellationToken).ConfigureAwait(false);
            var page = Deserialize<OktaRoleAssignees>(response!.Body);
            ids.AddRange(page.Value.IsDefault ? [] : page.Value.Select(a => a.Id));
            next = page.Links?.Next?.Href ?? response.Next?.AbsoluteUri;
        }

        return ids;
    }

    /// <summary>The latest user.session.clear event for the user since <paramref name="since"/>, from the System Log.</summary>
    public async Task<OktaLogEvent?> LastSessionClearAsync(string userId, DateTimeOffset since, CancellationToken cancellationToken)
    {
        var filter = $"eventType eq \"user.session.clear\" and target.id eq \"{userId}\"";
        var path = $"/api/v1/logs?filter={Uri.EscapeDataString(filter)}&since={Uri.EscapeDataString(since.UtcDateTime.ToString("yyyy-MM-ddTHH:mm:ss.fffZ", System.Globalization.CultureInfo.InvariantCulture))}&sortOrder=DESCENDING&limit=1";
        var response = await SendAsync(HttpMethod.Get, path, $"read the System Log for user {userId}", OktaScopes.LogsRead,
            idempotent: true, allowNotFound: false, cancellationToken).ConfigureAwait(false);
        return Deserialize<List<OktaLogEvent>>(response!.Body).OrderByDescending(e => e.Published).FirstOrDefault();
    }

    private async Task<List<T>> ListAsync<T>(string path, string operation, string scope, CancellationToken cancellationToken)
    {
        var items = new List<T>();
        string? next = path;
        while (next is not null)
        {
            var response = await SendAsync(HttpMethod.Get, next, operation, scope, idempotent: true, allowNotFound: false, cancellationToken).ConfigureAwait(false);
            items.AddRange(Deserialize<List<T>>(response!.Body));
            next = response.Next?.AbsoluteUri;
        }

        return items;
    }

    /// <summary>One call with its retries; null only for a 404 when <paramref name="allowNotFound"/>.</summary>
    private async Task<OktaResponse?> SendAsync(HttpMethod method, string pathOrUrl, string operation, string scope, bool idempotent, bool allowNotFound,
        CancellationToken cancellationToken, string? hint = null)
    {
        var uri = Resolve(pathOrUrl);
        var bucket = OktaRateGate.BucketOf(method, uri);
        var authRetried = false;
        for (var attempt = 0; ; attempt++)
        {
            await Gate.WaitTurnAsync(bucket, cancellationToken).ConfigureAwait(false);
            using var request = new HttpRequestMessage(method, uri);
            request.Headers.Accept.Add(new MediaTypeWithQualityHeaderValue("application/json"));
            request.Headers.Authorization = await _auth.HeaderAsync(cancellationToken).ConfigureAwait(false);
            if (method == HttpMethod.Post || method == HttpMethod.Put)
            {
                request.Content = new ByteArrayContent([]);
                request.Content.Headers.ContentLength = 0;
            }

            HttpResponseMessage response;
            using (var deadline = _options.RequestTimeout is { } timeout ? new CancellationTokenSource(timeout, _time) : new CancellationTokenSource())
            using (var linked = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, deadline.Token))
            {
                try
                {
                    response = await _http.SendAsync(request, linked.Token).ConfigureAwait(false);
                }
                catch (Exception e) when (e is OperationCanceledException or HttpRequestException && !cancellationToken.IsCancellationRequested)
                {
                    var what = e is OperationCanceledException ? "timed out" : $"failed ({e.Message})";
                    if (idempotent && attempt < _options.MaxRetries)
                    {
                        await BackOffAsync(attempt, cancellationToken).ConfigureAwait(false);
                        continue;
                    }

                    throw new ConnectorException(
                        $"Okta call to {operation} {what}" + (idempotent ? $" {attempt + 1} times" : "; not repeated, as it may have taken effect (the executor verifies)"),
                        transient: true, e);
                }
            }

            using (response)
            {
                Gate.Observe(bucket, response.Headers);
                var body = await response.Content.ReadAsStringAsync(cancellationToken).ConfigureAwait(false);
                if (response.IsSuccessStatusCode) return new OktaResponse(body, NextLink(response.Headers));
                if (response.StatusCode == HttpStatusCode.NotFound && allowNotFound) return null;

                if ((int)response.StatusCode == 429 && attempt < _options.MaxRetries)
                {
                    // Okta did not act on a throttled call, so even a lifecycle POST is safe to send again after the reset.
                    Gate.Exhausted(bucket, response.Headers, RateLimitFallback);
                    continue;
                }

                if ((int)response.StatusCode >= 500 && idempotent && attempt < _options.MaxRetries)
                {
                    await BackOffAsync(attempt, cancellationToken).ConfigureAwait(false);
                    continue;
                }

                if (response.StatusCode == HttpStatusCode.Unauthorized && !authRetried)
                {
                    // A cached service-app token may have been revoked or expired early: fetch one more and try once.
                    authRetried = true;
                    _auth.Invalidate();
                    if (_auth is ServiceAppAuthorization) continue;
                }

                throw OktaErrors.ToException(operation, response.StatusCode, body, scope, hint);
            }
        }
    }

    private Task BackOffAsync(int attempt, CancellationToken cancellationToken) =>
        Task.Delay(TimeSpan.FromSeconds(Math.Min(30, Math.Pow(2, attempt))), _time, cancellationToken);

    /// <summary>Relative paths go to the org; next links must stay on the org, so the token is never sent elsewhere.</summary>
    private Uri Resolve(string pathOrUrl)
    {
        var uri = pathOrUrl.StartsWith('/') ? new Uri(_options.BaseUrl, pathOrUrl) : new Uri(pathOrUrl, UriKind.Absolute);
        if (!string.Equals(uri.GetLeftPart(UriPartial.Authority), _options.BaseUrl.GetLeftPart(UriPartial.Authority), StringComparison.OrdinalIgnoreCase))
        {
            throw new ConnectorException($"Okta answered with a link to {uri.GetLeftPart(UriPartial.Authority)}, outside the configured org {_options.BaseUrl}; not following it");
        }

        return uri;
    }

    private static Uri? NextLink(HttpResponseHeaders headers)
    {
        if (!headers.TryGetValues("Link", out var values)) return null;
        foreach (var value in values.SelectMany(v => v.Split(',')))
        {
            var match = LinkPattern().Match(value);
            if (match.Success && match.Groups["rel"].Value == "next") return new Uri(match.Groups["url"].Value, UriKind.Absolute);
        }

        return null;
    }

    private static T Deserialize<T>(string body)
    {
        try
        {
            return JsonSerializer.Deserialize<T>(body, OktaJson.Options) ?? throw new ConnectorException("Okta answered with an empty body");
        }
        catch (JsonException e)
        {
            throw new ConnectorException($"Okta answered with JSON the connector cannot read: {e.Message}", e);
        }
    }

    [GeneratedRegex("""<(?<url>[^>]+)>\s*;\s*rel="?(?<rel>[^";]+)"?""")]
    private static partial Regex LinkPattern();

    private sealed record OktaResponse(string Body, Uri? Next);
}
