using System.Collections.Immutable;
using System.Globalization;
using System.Net;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using ResponseEngine.Findings;
using ResponseEngine.Identities;
using ResponseEngine.TestKit.Connectors;

namespace ResponseEngine.TestKit.Okta;

/// <summary>
/// An in-process Okta org behind an <see cref="HttpMessageHandler"/>: the user lifecycle state machine with Okta's error
/// shapes, groups with types and group rules, admin roles, sessions and the System Log, rate-limit headers and 429s per
/// endpoint bucket on the injected clock, Link paging, SSWS and OAuth (private_key_jwt) authorisation with scopes, and
/// per-test fault injection. Answers synchronously, so a test on fake time drives every wait.
/// </summary>
public sealed partial class OktaEmulator : HttpMessageHandler
{
    private static readonly TimeSpan Window = TimeSpan.FromMinutes(1);

    private readonly TimeProvider _time;
    private readonly Lock _lock = new();
    private readonly Dictionary<string, (DateTimeOffset Start, int Count)> _buckets = new(StringComparer.Ordinal);
    private readonly List<(OktaFault Fault, Func<RecordedRequest, bool> When)> _faults = [];
    private readonly Dictionary<string, (ImmutableArray<string> Scopes, DateTimeOffset Expires)> _tokens = new(StringComparer.Ordinal);
    private int _sequence;

    public OktaEmulator(TimeProvider time, Uri? baseUrl = null)
    {
        _time = time;
        BaseUrl = baseUrl ?? new Uri("https://emulator.okta.example");
    }

    public Uri BaseUrl { get; }

    public string ApiToken { get; set; } = "00emulator-api-token";

    /// <summary>The id of the admin who made <see cref="ApiToken"/>: what GET /api/v1/users/me answers (none: 404).</summary>
    public string? ApiTokenOwner { get; set; }

    /// <summary>Requests per minute allowed in each endpoint bucket (method and path template).</summary>
    public int RateLimitPerMinute { get; set; } = 600;

    /// <summary>Largest page a list call returns, whatever limit it asks for; small values force paging.</summary>
    public int MaxPageSize { get; set; } = 200;

    public Dictionary<string, EmulatedUser> Users { get; } = new(StringComparer.Ordinal);

    public Dictionary<string, EmulatedGroup> Groups { get; } = new(StringComparer.Ordinal);

    public List<EmulatedGroupRule> Rules { get; } = [];

    public List<EmulatedLogEvent> Log { get; } = [];

    public List<EmulatedServiceApp> ServiceApps { get; } = [];

    public List<RecordedRequest> Requests { get; } = [];

    /// <summary>How many calls were answered 429 (rate limit exceeded or injected).</summary>
    public int Throttled => Requests.Count(r => r.Status == 429);

    public HttpClient CreateClient() => new(this, disposeHandler: false) { BaseAddress = BaseUrl, Timeout = Timeout.InfiniteTimeSpan };

    /// <summary>Called with each request before it is answered, under the org's lock: another admin acting at that moment.</summary>
    public Action<RecordedRequest>? BeforeHandle { get; set; }

    /// <summary>The next <paramref name="count"/> calls (matching <paramref name="when"/>, if given) fail with <paramref name="fault"/>.</summary>
    public void FailNext(int count, OktaFault fault, Func<RecordedRequest, bool>? when = null)
    {
        lock (_lock)
        {
            for (var i = 0; i < count; i++) _faults.Add((fault, when ?? (_ => true)));
        }
    }

    public EmulatedUser AddUser(string id, string login, string status = "ACTIVE", string? email = null)
    {
        var user = new EmulatedUser(id, login) { Status = status, Email = email ?? login, LastLogin = _time.GetUtcNow().AddHours(-1) };
        Users[id] = user;
        return user;
    }

    public EmulatedGroup AddGroup(string id, string name, string type = "OKTA_GROUP")
    {
        var group = new EmulatedGroup(id, name, type);
        Groups[id] = group;
        return group;
    }

    /// <summary>Seeds the org from a connector contract directory: nesting becomes group rules, as an Okta admin would model it; group roles group role assignments.</summary>
    public void Load(ContractDirectory directory)
    {
        ArgumentNullException.ThrowIfNull(directory);
        foreach (var group in directory.Groups) AddGroup(group.Id, group.Name, group.OktaType ?? "OKTA_GROUP").Roles.AddRange(group.Roles);
        string IdOf(string name) => directory.Groups.First(g => string.Equals(g.Name, name, StringComparison.OrdinalIgnoreCase)).Id;
        foreach (var group in directory.Groups.Where(g => !g.MemberOf.IsEmpty))
        {
            Rules.Add(new EmulatedGroupRule("0pr-" + group.Id, $"{group.Name} are also {string.Join(", ", group.MemberOf)}",
                [group.Id], [.. group.MemberOf.Select(IdOf)]));
        }

        foreach (var entry in directory.Users)
        {
            var status = entry.OktaStatus ?? (entry.Enabled ? "ACTIVE" : "SUSPENDED");
            var user = AddUser(entry.Id, entry.Upn ?? entry.Name, status, entry.Email);
            user.FirstName = entry.DisplayName ?? entry.Name;
            user.Roles.AddRange(entry.Roles);
            foreach (var name in entry.Groups) Groups[IdOf(name)].Members.Add(user.Id);
        }
    }

    /// <summary>Registers a service app; returns the private key the engine signs its client assertions with, in PEM.</summary>
    public string RegisterServiceApp(string clientId, params string[] scopes)
    {
        var key = RSA.Create(2048);
        var pem = key.ExportPkcs8PrivateKeyPem();
        ServiceApps.Add(new EmulatedServiceApp(clientId, key, [.. scopes]));
        return pem;
    }

    /// <summary>The account as the org holds it (direct groups, roles, status), built like a snapshot entry, for contract checks.</summary>
    public Identity? Inspect(string userId)
    {
        lock (_lock)
        {
            if (!Users.TryGetValue(userId, out var user)) return null;
            var direct = Groups.Values.Where(g => g.Members.Contains(userId)).ToList();
            var entry = new UserEntry(Provider.Okta, user.Id, user.Login)
            {
                Upn = user.Login,
                Email = user.Email,
                Enabled = OktaStatuses.IsEnabled(user.Status),
                OktaStatus = user.Status,
                Groups = [.. direct.Select(g => g.Name)],
                Roles = [.. user.Roles],
                PasswordMustChange = user.Status == OktaStatuses.PasswordExpired,
                SessionsRevokedAt = user.SessionsClearedAt,
                LastSignInAt = user.LastLogin,
            };
            var groups = Groups.Values.Select(g => new Identities.Group(Provider.Okta, g.Id, g.Name) { OktaType = g.Type, Roles = [.. g.Roles] });
            return DirectorySnapshot.Build([entry], groups, PrivilegedPolicy.Default).Users[0];
        }
    }

    /// <summary>Group ids the user belongs to, directly or through group rules (applied until nothing changes).</summary>
    public HashSet<string> EffectiveGroups(string userId)
    {
        var set = Groups.Values.Where(g => g.Members.Contains(userId)).Select(g => g.Id).ToHashSet(StringComparer.Ordinal);
        bool grew;
        do
        {
            grew = false;
            foreach (var rule in Rules.Where(r => r.Status == "ACTIVE" && r.SourceGroupIds.Any(set.Contains)))
            {
                foreach (var target in rule.TargetGroupIds) grew |= set.Add(target);
            }
        }
        while (grew);
        return set;
    }

    protected override Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken) =>
        Task.FromResult(Send(request, cancellationToken));

    protected override HttpResponseMessage Send(HttpRequestMessage request, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(request);
        cancellationToken.ThrowIfCancellationRequested();
        lock (_lock)
        {
            var uri = request.RequestUri!.IsAbsoluteUri ? request.RequestUri : new Uri(BaseUrl, request.RequestUri);
            var recorded = new RecordedRequest(_time.GetUtcNow(), request.Method.Method, uri.AbsolutePath, uri.Query,
                request.Content?.Headers.ContentLength, request.Headers.Authorization?.Scheme, 0);
            BeforeHandle?.Invoke(recorded);
            var bucket = BucketOf(request.Method, uri);
            var window = Count(bucket);
            var fault = _faults.FindIndex(f => f.When(recorded));
            HttpResponseMessage response;
            if (fault >= 0)
            {
                var kind = _faults[fault].Fault;
                _faults.RemoveAt(fault);
                if (kind == OktaFault.Timeout)
                {
                    Requests.Add(recorded with { Status = 0 });
                    throw new TaskCanceledException("The request was canceled due to the configured HttpClient.Timeout of 30 seconds elapsing.", new TimeoutException());
                }

                response = kind == OktaFault.RateLimited
                    ? Error((HttpStatusCode)429, "E0000047", "API call exceeded rate limit due to too many requests.")
                    : Error(HttpStatusCode.InternalServerError, "E0000009", "Internal Server Error");
                if (kind == OktaFault.RateLimited) window = window with { Remaining = 0 };
            }
            else if (window.Remaining < 0)
            {
                response = Error((HttpStatusCode)429, "E0000047", "API call exceeded rate limit due to too many requests.");
            }
            else
            {
                response = Route(request, uri);
            }

            response.Headers.Add("X-Rate-Limit-Limit", RateLimitPerMinute.ToString(CultureInfo.InvariantCulture));
            response.Headers.Add("X-Rate-Limit-Remaining", Math.Max(0, window.Remaining).ToString(CultureInfo.InvariantCulture));
            response.Headers.Add("X-Rate-Limit-Reset", window.Reset.ToUnixTimeSeconds().ToString(CultureInfo.InvariantCulture));
            response.RequestMessage = request;
            Requests.Add(recorded with { Status = (int)response.StatusCode });
            return response;
        }
    }

    /// <summary>Okta counts per endpoint: the method and the path with ids replaced.</summary>
    public static string BucketOf(HttpMethod method, Uri uri)
    {
        ArgumentNullException.ThrowIfNull(method);
        ArgumentNullException.ThrowIfNull(uri);
        var segments = uri.AbsolutePath.Split('/');
        for (var i = 4; i < segments.Length; i++)
        {
            if (segments[i - 1] is "users" or "groups" or "rules" or "roles" && segments[i].Length > 0
                && segments[i] is not ("rules" or "lifecycle" or "groups" or "users" or "roles" or "sessions"))
            {
                segments[i] = "{id}";
            }
        }

        return method.Method + " " + string.Join('/', segments);
    }

    private (int Remaining, DateTimeOffset Reset) Count(string bucket)
    {
        var now = _time.GetUtcNow();
        if (!_buckets.TryGetValue(bucket, out var state) || now >= state.Start + Window)
        {
            // Windows start on the whole second, as Okta's reset is given in epoch seconds.
            state = (DateTimeOffset.FromUnixTimeSeconds(now.ToUnixTimeSeconds()), 0);
        }

        state.Count++;
        _buckets[bucket] = state;
        return (RateLimitPerMinute - state.Count, state.Start + Window);
    }

    private HttpResponseMessage Route(HttpRequestMessage request, Uri uri)
    {
        var path = uri.AbsolutePath.Split('/', StringSplitOptions.RemoveEmptyEntries).Select(Uri.UnescapeDataString).ToArray();
        var query = ParseQuery(uri.Query);
        var method = request.Method.Method;
        if (path is ["oauth2", "v1", "token"] && method == "POST") return Token(request);
        if (path.Length < 2 || path[0] != "api" || path[1] != "v1") return NotFound(uri.AbsolutePath, "Resource");

        var denied = Authorize(request, path, method);
        if (denied is not null) return denied;
        if (method is "POST" or "PUT" && request.Content?.Headers.ContentLength is null)
        {
            return Error(HttpStatusCode.LengthRequired, "E0000001", "Api validation failed: Content-Length required");
        }

        return (method, path[2..]) switch
        {
            ("GET", ["users"]) => ListUsers(query),
            ("GET", ["users", var id]) => FindUser(id) is { } user ? Json(UserJson(user)) : NotFound(id, "User"),
            ("POST", ["users", var id, "lifecycle", var operation]) => Lifecycle(id, operation),
            ("DELETE", ["users", var id, "sessions"]) => ClearSessions(id, query),
            ("GET", ["users", var id, "groups"]) => FindUser(id) is { } user
                ? Page([.. EffectiveGroups(user.Id).Select(g => Groups[g]).OrderBy(g => g.Id, StringComparer.Ordinal).Select(GroupJson)], uri, query)
                : NotFound(id, "User"),
            ("GET", ["users", var id, "roles"]) => FindUser(id) is { } user ? Json(new JsonArray([.. UserRoles(user)])) : NotFound(id, "User"),
            ("GET", ["groups", var gid, "roles"]) => Groups.TryGetValue(gid, out var group)
                ? Json(new JsonArray([.. group.Roles.Select(r => GroupRoleJson(group, r))]))
                : NotFound(gid, "UserGroup"),
            ("GET", ["groups"]) => ListGroups(uri, query),
            ("GET", ["groups", "rules"]) => Page([.. Rules.Select(RuleJson)], uri, query),
            ("GET", ["groups", var gid, "users"]) => Groups.TryGetValue(gid, out var group)
                ? Page([.. Users.Values.Where(u => EffectiveGroups(u.Id).Contains(group.Id)).OrderBy(u => u.Id, StringComparer.Ordinal).Select(UserJson)], uri, query)
                : NotFound(gid, "UserGroup"),
            ("DELETE" or "PUT", ["groups", var gid, "users", var uid]) => Membership(method, gid, uid),
            ("GET", ["iam", "assignees", "users"]) => Assignees(uri, query),
            ("GET", ["logs"]) => query.ContainsKey("filter") ? Logs(query) : PollSystemLog(uri, query),
            _ => NotFound(uri.AbsolutePath, "Resource"),
        };
    }

    private HttpResponseMessage? Authorize(HttpRequestMessage request, string[] path, string method)
    {
        var header = request.Headers.Authorization;
        if (header?.Scheme == "SSWS" && header.Parameter == ApiToken) return null;
        if (header?.Scheme == "Bearer" && header.Parameter is { } token && _tokens.TryGetValue(token, out var grant) && _time.GetUtcNow() < grant.Expires)
        {
            var needed = ScopeFor(method, path);
            if (needed is null || grant.Scopes.Contains(needed) || (needed.EndsWith(".read", StringComparison.Ordinal)
                && grant.Scopes.Contains(needed[..^".read".Length] + ".manage")))
            {
                return null;
            }

            var response = Error(HttpStatusCode.Forbidden, "E0000006", "You do not have permission to perform the requested action");
            response.Headers.TryAddWithoutValidation("WWW-Authenticate",
                $"Bearer authorization_uri=\"{BaseUrl}oauth2/v1/authorize\", realm=\"{BaseUrl}\", scope=\"{needed}\", error=\"insufficient_scope\", error_description=\"The access token provided does not contain the required scopes.\", resource=\"/{string.Join('/', path)}\"");
            return response;
        }

        return Error(HttpStatusCode.Unauthorized, "E0000011", "Invalid token provided");
    }

    private static string? ScopeFor(string method, string[] path) => (method, path[2..]) switch
    {
        ("GET", ["users", ..]) when path.Length == 6 && path[5] == "groups" => "okta.groups.read",
        ("GET", ["users", _, "roles"]) => "okta.roles.read",
        ("GET", ["groups", _, "roles"]) => "okta.roles.read",
        ("GET", ["users", ..]) => "okta.users.read",
        (_, ["users", ..]) => "okta.users.manage",
        ("GET", ["groups", ..]) => "okta.groups.read",
        (_, ["groups", ..]) => "okta.groups.manage",
        ("GET", ["iam", ..]) => "okta.roles.read",
        ("GET", ["logs"]) => "okta.logs.read",
        _ => null,
    };

    private HttpResponseMessage Token(HttpRequestMessage request)
    {
        using var reader = new StreamReader(request.Content!.ReadAsStream());
        var form = ParseQuery("?" + reader.ReadToEnd());
        if (form.GetValueOrDefault("grant_type") != "client_credentials") return OAuthError("unsupported_grant_type", "The grant type is not supported.");
        if (form.GetValueOrDefault("client_assertion_type") != "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"
            || form.GetValueOrDefault("client_assertion") is not { } assertion)
        {
            return OAuthError("invalid_client", "Client authentication failed: no client assertion.", HttpStatusCode.Unauthorized);
        }

        var parts = assertion.Split('.');
        if (parts.Length != 3) return OAuthError("invalid_client", "The client_assertion is not a JWT.", HttpStatusCode.Unauthorized);
        var header = JsonNode.Parse(FromBase64Url(parts[0]))!;
        var claims = JsonNode.Parse(FromBase64Url(parts[1]))!;
        var clientId = claims["iss"]?.GetValue<string>();
        var app = ServiceApps.FirstOrDefault(a => a.ClientId == clientId);
        if (app is null || claims["sub"]?.GetValue<string>() != clientId) return OAuthError("invalid_client", "The client_assertion token has an invalid issuer or subject.", HttpStatusCode.Unauthorized);
        if (header["alg"]?.GetValue<string>() != "RS256") return OAuthError("invalid_client", "The client_assertion signature algorithm is not supported.", HttpStatusCode.Unauthorized);
        if (claims["aud"]?.GetValue<string>() != new Uri(BaseUrl, "/oauth2/v1/token").AbsoluteUri)
        {
            return OAuthError("invalid_client", "The audience claim for client_assertion must be the endpoint invoked for the request.", HttpStatusCode.Unauthorized);
        }

        if (claims["exp"]?.GetValue<long>() is not { } exp || DateTimeOffset.FromUnixTimeSeconds(exp) <= _time.GetUtcNow())
        {
            return OAuthError("invalid_client", "The client_assertion token is expired.", HttpStatusCode.Unauthorized);
        }

        if (!app.PublicKey.VerifyData(Encoding.ASCII.GetBytes(parts[0] + "." + parts[1]), FromBase64Url(parts[2]), HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1))
        {
            return OAuthError("invalid_client", "The client_assertion signature is invalid.", HttpStatusCode.Unauthorized);
        }

        var scopes = (form.GetValueOrDefault("scope") ?? "").Split(' ', StringSplitOptions.RemoveEmptyEntries).ToImmutableArray();
        var missing = scopes.Where(s => !app.GrantedScopes.Contains(s)).ToList();
        if (scopes.IsEmpty || missing.Count > 0)
        {
            return OAuthError("invalid_scope", missing.Count > 0 ? "The following scopes are not allowed: " + string.Join(", ", missing) : "One or more scopes are required.");
        }

        var token = "emu-at-" + (++_sequence).ToString(CultureInfo.InvariantCulture);
        _tokens[token] = (scopes, _time.GetUtcNow().AddHours(1));
        return Json(new JsonObject { ["token_type"] = "Bearer", ["expires_in"] = 3600, ["access_token"] = token, ["scope"] = string.Join(' ', scopes) });
    }

    private EmulatedUser? FindUser(string idOrLogin)
    {
        // GET /api/v1/users/me is the admin whose API token signed the call (Okta Users API, "Retrieve a user": id `me`).
        if (idOrLogin == "me") return ApiTokenOwner is { } owner && Users.TryGetValue(owner, out var me) ? me : null;
        if (Users.TryGetValue(idOrLogin, out var byId)) return byId;
        var byLogin = Users.Values.FirstOrDefault(u => string.Equals(u.Login, idOrLogin, StringComparison.OrdinalIgnoreCase));
        if (byLogin is not null) return byLogin;
        var byShortName = Users.Values.Where(u => string.Equals(u.Login.Split('@')[0], idOrLogin, StringComparison.OrdinalIgnoreCase)).ToList();
        return byShortName.Count == 1 ? byShortName[0] : null;
    }

    private HttpResponseMessage ListUsers(Dictionary<string, string> query)
    {
        IEnumerable<EmulatedUser> users = Users.Values;
        if (query.TryGetValue("search", out var search))
        {
            var terms = SearchTerm().Matches(search).Select(m => (Field: m.Groups["field"].Value, Value: Unquote(m.Groups["value"].Value))).ToList();
            if (terms.Count == 0) return Error(HttpStatusCode.BadRequest, "E0000031", "Invalid search criteria.");
            users = users.Where(u => terms.Any(t => t.Field switch
            {
                "login" => string.Equals(u.Login, t.Value, StringComparison.OrdinalIgnoreCase),
                "email" => string.Equals(u.Email, t.Value, StringComparison.OrdinalIgnoreCase),
                _ => false,
            }));
        }
        else
        {
            users = users.Where(u => u.Status != OktaStatuses.Deprovisioned);
        }

        return Page([.. users.OrderBy(u => u.Id, StringComparer.Ordinal).Select(UserJson)], new Uri(BaseUrl, "/api/v1/users"), query);
    }

    private HttpResponseMessage ListGroups(Uri uri, Dictionary<string, string> query)
    {
        IEnumerable<EmulatedGroup> groups = Groups.Values;
        if (query.TryGetValue("search", out var search))
        {
            var terms = SearchTerm().Matches(search).Where(m => m.Groups["field"].Value == "name").Select(m => Unquote(m.Groups["value"].Value)).ToList();
            groups = groups.Where(g => terms.Any(t => string.Equals(g.Name, t, StringComparison.OrdinalIgnoreCase)));
        }
        else if (query.TryGetValue("q", out var prefix))
        {
            groups = groups.Where(g => g.Name.StartsWith(prefix, StringComparison.OrdinalIgnoreCase));
        }

        return Page([.. groups.OrderBy(g => g.Id, StringComparer.Ordinal).Select(GroupJson)], uri, query);
    }

    private HttpResponseMessage Lifecycle(string id, string operation)
    {
        if (!Users.TryGetValue(id, out var user)) return NotFound(id, "User");
        var (from, to, verb) = operation switch
        {
            "suspend" => (new[] { "ACTIVE" }, "SUSPENDED", "suspend"),
            "unsuspend" => (["SUSPENDED"], "ACTIVE", "unsuspend"),
            "deactivate" => (["STAGED", "PROVISIONED", "ACTIVE", "RECOVERY", "LOCKED_OUT", "PASSWORD_EXPIRED", "SUSPENDED"], "DEPROVISIONED", "deactivate"),
            "expire_password" => (["ACTIVE"], "PASSWORD_EXPIRED", "expire the password of"),
            _ => (null!, "", ""),
        };
        if (from is null) return NotFound(operation, "Lifecycle operation");
        if (!from.Contains(user.Status))
        {
            return Error(HttpStatusCode.BadRequest, "E0000001", $"Api validation failed: {operation}",
                $"Cannot {verb} a user whose status is {user.Status}.");
        }

        user.Status = to;
        user.StatusChanged = _time.GetUtcNow();
        Log.Add(new EmulatedLogEvent(Guid.NewGuid().ToString(), _time.GetUtcNow(), "user.lifecycle." + operation, user.Id));
        if (operation == "expire_password") return Json(new JsonObject { ["status"] = to });
        return Json(new JsonObject());
    }

    private HttpResponseMessage ClearSessions(string id, Dictionary<string, string> query)
    {
        if (!Users.TryGetValue(id, out var user)) return NotFound(id, "User");
        user.SessionsClearedAt = _time.GetUtcNow();
        user.OAuthTokensRevoked |= query.GetValueOrDefault("oauthTokens") == "true";
        Log.Add(new EmulatedLogEvent(Guid.NewGuid().ToString(), _time.GetUtcNow(), "user.session.clear", user.Id));
        return new HttpResponseMessage(HttpStatusCode.NoContent) { Content = new ByteArrayContent([]) };
    }

    private HttpResponseMessage Membership(string method, string groupId, string userId)
    {
        if (!Groups.TryGetValue(groupId, out var group)) return NotFound(groupId, "UserGroup");
        if (!Users.ContainsKey(userId)) return NotFound(userId, "User");
        if (group.Type != "OKTA_GROUP")
        {
            return Error(HttpStatusCode.BadRequest, "E0000001", "Api validation failed: group membership",
                $"Cannot modify the membership of a group of type {group.Type}.");
        }

        if (method == "PUT") group.Members.Add(userId);
        else group.Members.Remove(userId);
        return new HttpResponseMessage(HttpStatusCode.NoContent) { Content = new ByteArrayContent([]) };
    }

    private HttpResponseMessage Assignees(Uri uri, Dictionary<string, string> query)
    {
        var holders = Users.Values.Where(u => u.Roles.Count > 0).OrderBy(u => u.Id, StringComparer.Ordinal).ToList();
        var (page, next) = Slice(holders.Select(u => u.Id).ToList(), uri, query);
        var body = new JsonObject { ["value"] = new JsonArray([.. page.Select(id => (JsonNode)new JsonObject { ["id"] = id, ["orn"] = $"orn:okta:directory:emulator:users:{id}" })]) };
        if (next is not null) body["_links"] = new JsonObject { ["next"] = new JsonObject { ["href"] = next.AbsoluteUri } };
        return Json(body);
    }

    private HttpResponseMessage Logs(Dictionary<string, string> query)
    {
        IEnumerable<EmulatedLogEvent> events = Log;
        if (query.TryGetValue("filter", out var filter))
        {
            foreach (Match term in FilterTerm().Matches(filter))
            {
                var value = Unquote(term.Groups["value"].Value);
                events = term.Groups["field"].Value switch
                {
                    "eventType" => events.Where(e => e.EventType == value),
                    "target.id" => events.Where(e => e.TargetId == value),
                    _ => events,
                };
            }
        }

        if (query.TryGetValue("since", out var since)) events = events.Where(e => e.Published >= DateTimeOffset.Parse(since, CultureInfo.InvariantCulture));
        events = query.GetValueOrDefault("sortOrder") == "DESCENDING" ? events.OrderByDescending(e => e.Published) : events.OrderBy(e => e.Published);
        if (query.TryGetValue("limit", out var limit)) events = events.Take(int.Parse(limit, CultureInfo.InvariantCulture));
        return Json(new JsonArray([.. events.Select(e => (JsonNode)new JsonObject
        {
            ["uuid"] = e.Uuid,
            ["published"] = e.Published.ToString("O"),
            ["eventType"] = e.EventType,
            ["outcome"] = new JsonObject { ["result"] = "SUCCESS" },
            ["target"] = new JsonArray(new JsonObject { ["id"] = e.TargetId, ["type"] = "User" }),
        })]));
    }

    /// <summary>A page of <paramref name="items"/> with Okta's Link headers (self, and next while more remain).</summary>
    private HttpResponseMessage Page(List<JsonNode> items, Uri uri, Dictionary<string, string> query)
    {
        var (page, next) = Slice(items, uri, query);
        var response = Json(new JsonArray([.. page]));
        response.Headers.TryAddWithoutValidation("Link", $"<{uri.GetLeftPart(UriPartial.Path)}{uri.Query}>; rel=\"self\"");
        if (next is not null) response.Headers.TryAddWithoutValidation("Link", $"<{next.AbsoluteUri}>; rel=\"next\"");
        return response;
    }

    private (List<T> Page, Uri? Next) Slice<T>(List<T> items, Uri uri, Dictionary<string, string> query)
    {
        var limit = Math.Min(MaxPageSize, query.TryGetValue("limit", out var l) && int.TryParse(l, CultureInfo.InvariantCulture, out var n) ? n : 200);
        var start = query.TryGetValue("after", out var after) && int.TryParse(after, CultureInfo.InvariantCulture, out var a) ? a : 0;
        var page = items.Skip(start).Take(limit).ToList();
        if (start + limit >= items.Count) return (page, null);
        var rest = query.Where(kv => kv.Key is not ("after" or "limit"))
            .Select(kv => $"{kv.Key}={Uri.EscapeDataString(kv.Value)}")
            .Append($"limit={limit}").Append($"after={start + limit}");
        return (page, new Uri(uri.GetLeftPart(UriPartial.Path) + "?" + string.Join('&', rest)));
    }

    private JsonNode UserJson(EmulatedUser user) => new JsonObject
    {
        ["id"] = user.Id,
        ["status"] = user.Status,
        ["created"] = "2025-01-01T00:00:00.000Z",
        ["statusChanged"] = user.StatusChanged?.ToString("O"),
        ["lastLogin"] = user.LastLogin?.ToString("O"),
        ["type"] = new JsonObject { ["id"] = "oty-default" },
        ["profile"] = new JsonObject
        {
            ["login"] = user.Login,
            ["email"] = user.Email,
            ["firstName"] = user.FirstName,
            ["lastName"] = user.LastName,
        },
        ["_links"] = new JsonObject { ["self"] = new JsonObject { ["href"] = new Uri(BaseUrl, "/api/v1/users/" + Uri.EscapeDataString(user.Id)).AbsoluteUri } },
    };

    private static JsonNode GroupJson(EmulatedGroup group) => new JsonObject
    {
        ["id"] = group.Id,
        ["type"] = group.Type,
        ["objectClass"] = new JsonArray("okta:user_group"),
        ["profile"] = new JsonObject { ["name"] = group.Name, ["description"] = null },
    };

    /// <summary>
    /// A user's roles as "List all roles assigned to a user" answers: its own (assignmentType USER) and those of every group
    /// it belongs to, directly or by a group rule (assignmentType GROUP, _links.assignee naming the group).
    /// </summary>
    private IEnumerable<JsonNode> UserRoles(EmulatedUser user) =>
        user.Roles.Select(r => RoleJson(user, r))
            .Concat(EffectiveGroups(user.Id).Order(StringComparer.Ordinal).Select(id => Groups[id]).SelectMany(g => g.Roles.Select(r => GroupRoleJson(g, r))));

    private JsonNode RoleJson(EmulatedUser user, string type) => RoleJson("ra-" + user.Id, "USER", "/api/v1/users/" + Uri.EscapeDataString(user.Id), type);

    private JsonNode GroupRoleJson(EmulatedGroup group, string type) => RoleJson("gra-" + group.Id, "GROUP", "/api/v1/groups/" + Uri.EscapeDataString(group.Id), type);

    /// <summary>Shaped as the examples of developer.okta.com/docs/reference/api/roles (List Roles Assigned to a User / to a Group).</summary>
    private JsonNode RoleJson(string idPrefix, string assignmentType, string assignee, string type) => new JsonObject
    {
        ["id"] = idPrefix + "-" + type.ToLowerInvariant(),
        ["label"] = type,
        ["type"] = type,
        ["status"] = "ACTIVE",
        ["created"] = "2025-01-01T00:00:00.000Z",
        ["lastUpdated"] = "2025-01-01T00:00:00.000Z",
        ["assignmentType"] = assignmentType,
        ["_links"] = new JsonObject { ["assignee"] = new JsonObject { ["href"] = new Uri(BaseUrl, assignee).AbsoluteUri } },
    };

    private static JsonNode RuleJson(EmulatedGroupRule rule) => new JsonObject
    {
        ["type"] = "group_rule",
        ["id"] = rule.Id,
        ["status"] = rule.Status,
        ["name"] = rule.Name,
        ["conditions"] = new JsonObject
        {
            ["expression"] = new JsonObject
            {
                ["value"] = $"isMemberOfAnyGroup({string.Join(",", rule.SourceGroupIds.Select(id => $"\"{id}\""))})",
                ["type"] = "urn:okta:expression:1.0",
            },
        },
        ["actions"] = new JsonObject { ["assignUserToGroups"] = new JsonObject { ["groupIds"] = new JsonArray([.. rule.TargetGroupIds.Select(id => (JsonNode)id)]) } },
    };

    private static HttpResponseMessage Json(JsonNode body) => new(HttpStatusCode.OK)
    {
        Content = new StringContent(body.ToJsonString(), Encoding.UTF8, "application/json"),
    };

    private static HttpResponseMessage NotFound(string what, string kind) =>
        Error(HttpStatusCode.NotFound, "E0000007", $"Not found: Resource not found: {what} ({kind})");

    /// <summary>Okta's error body: errorCode, errorSummary, errorLink, errorId, errorCauses.</summary>
    public static HttpResponseMessage Error(HttpStatusCode status, string code, string summary, params string[] causes)
    {
        var body = new JsonObject
        {
            ["errorCode"] = code,
            ["errorSummary"] = summary,
            ["errorLink"] = code,
            ["errorId"] = "oae" + code[1..],
            ["errorCauses"] = new JsonArray([.. causes.Select(c => (JsonNode)new JsonObject { ["errorSummary"] = c })]),
        };
        return new HttpResponseMessage(status) { Content = new StringContent(body.ToJsonString(), Encoding.UTF8, "application/json") };
    }

    private static HttpResponseMessage OAuthError(string error, string description, HttpStatusCode status = HttpStatusCode.BadRequest) => new(status)
    {
        Content = new StringContent(new JsonObject { ["error"] = error, ["error_description"] = description }.ToJsonString(), Encoding.UTF8, "application/json"),
    };

    /// <summary>Query strings decode as Okta's servers do: '+' is a space, so a client must escape a literal plus.</summary>
    private static Dictionary<string, string> ParseQuery(string query)
    {
        var result = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var pair in query.TrimStart('?').Split('&', StringSplitOptions.RemoveEmptyEntries))
        {
            var at = pair.IndexOf('=', StringComparison.Ordinal);
            string Decode(string s) => Uri.UnescapeDataString(s.Replace('+', ' '));
            result[Decode(at < 0 ? pair : pair[..at])] = at < 0 ? "" : Decode(pair[(at + 1)..]);
        }

        return result;
    }

    private static string Unquote(string value) => value.Replace("\\\"", "\"", StringComparison.Ordinal).Replace("\\\\", "\\", StringComparison.Ordinal);

    private static byte[] FromBase64Url(string text)
    {
        var padded = text.Replace('-', '+').Replace('_', '/');
        return Convert.FromBase64String(padded + new string('=', (4 - (padded.Length % 4)) % 4));
    }

    [GeneratedRegex(@"profile\.(?<field>\w+)\s+eq\s+""(?<value>(?:[^""\\]|\\.)*)""")]
    private static partial Regex SearchTerm();

    [GeneratedRegex(@"(?<field>[\w.]+)\s+eq\s+""(?<value>(?:[^""\\]|\\.)*)""")]
    private static partial Regex FilterTerm();
}
