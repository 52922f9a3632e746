using System.Globalization;
using System.Net;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;
using ResponseEngine.Findings;
using ResponseEngine.Identities;
using ResponseEngine.TestKit.Connectors;

namespace ResponseEngine.TestKit.Graph;

/// <summary>
/// A Microsoft Graph v1.0 tenant served over real HTTP by an in-process ASP.NET Core (Kestrel) app on an ephemeral
/// loopback port, so the real Graph SDK talks to it unchanged. It implements the endpoints the Entra connector and the
/// pollers use (users, groups and membership <c>$ref</c>, directory roles and PIM eligibility, Identity Protection,
/// conditional access, security alerts_v2, <c>$batch</c>), with Graph's JSON and error shapes, OData <c>$filter</c>,
/// <c>$select</c>, <c>$expand</c> and <c>@odata.nextLink</c> paging, token-bucket throttling (429 + Retry-After) on the
/// injected <see cref="TimeProvider"/>, per-item statuses inside <c>$batch</c>, a request log, and per-test faults.
/// Start one per test with <see cref="StartAsync"/>; many can run at once.
/// </summary>
public sealed partial class GraphEmulator : IAsyncDisposable
{
    /// <summary>The bearer token <see cref="StaticTokenCredential"/> hands out; any non-empty bearer token is accepted.</summary>
    public const string Token = "emulator-access-token";

    private readonly Lock _lock = new();
    private readonly TimeProvider _time;
    private readonly List<(GraphFault Fault, Func<GraphRequest, bool> When)> _faults = [];
    private readonly List<GraphRequest> _requests = [];
    private readonly Dictionary<string, (double Tokens, DateTimeOffset At)> _buckets = new(StringComparer.Ordinal);
    private readonly CancellationTokenSource _stopping = new();
    private WebApplication? _app;
    private int _sequence;
    private int _stormCounter;
    private TaskCompletionSource _recorded = new(TaskCreationOptions.RunContinuationsAsynchronously);

    private GraphEmulator(TimeProvider time)
    {
        _time = time;
        foreach (var role in GraphRoles.BuiltIn) Tenant.RoleDefinitions[role.Id] = role;
    }

    /// <summary>The service root the SDK is given, e.g. http://127.0.0.1:41234/v1.0.</summary>
    public Uri BaseUrl { get; private set; } = null!;

    /// <summary>What the tenant holds; change it between calls to arrange a case, read it after to check one.</summary>
    public GraphTenant Tenant { get; } = new();

    /// <summary>Reads (GET, and each GET inside a batch): a bucket per app and tenant.</summary>
    public GraphLimit ReadLimit { get; set; } = GraphLimit.Reads;

    /// <summary>Writes (every other method); the benchmark sets <see cref="GraphLimit.DocumentedWrites"/> or smaller.</summary>
    public GraphLimit WriteLimit { get; set; } = GraphLimit.DocumentedWrites;

    /// <summary>Conditional-access and Identity Protection writes, on top of <see cref="WriteLimit"/>: about 1 per second.</summary>
    public GraphLimit PolicyWriteLimit { get; set; } = GraphLimit.PolicyWrites;

    /// <summary>When true, 429s for conditional-access and Identity Protection writes carry no Retry-After, as Graph sometimes does.</summary>
    public bool OmitRetryAfterOnPolicyWrites { get; set; }

    /// <summary>The Retry-After sent with injected 429s and 503s and during a storm.</summary>
    public TimeSpan FaultRetryAfter { get; set; } = TimeSpan.FromSeconds(2);

    /// <summary>When set, the exact Retry-After text of injected 429s (Graph sends fractions such as "2.128", or an HTTP date).</summary>
    public string? FaultRetryAfterText { get; set; }

    /// <summary>Largest page a list returns when $top does not ask for less; small values force nextLink paging.</summary>
    public int PageSize { get; set; } = 100;

    /// <summary>Every call so far, in order of arrival (a copy).</summary>
    public IReadOnlyList<GraphRequest> Requests
    {
        get
        {
            lock (_lock) return [.. _requests];
        }
    }

    /// <summary>Calls answered 429, top level and inside batches.</summary>
    public int Throttled => Requests.Count(r => r.Status == 429);

    /// <summary>Starts an emulator on 127.0.0.1 with an ephemeral port; the tenant holds the built-in roles and nothing else.</summary>
    public static async Task<GraphEmulator> StartAsync(TimeProvider time, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(time);
        var emulator = new GraphEmulator(time);
        var (app, address) = await LoopbackServer.StartAsync(emulator.HandleAsync, cancellationToken: cancellationToken).ConfigureAwait(false);
        emulator._app = app;
        emulator.BaseUrl = new Uri(address + "/v1.0");
        return emulator;
    }

    /// <summary>Stops Kestrel; calls still hanging (the Timeout fault) are abandoned.</summary>
    public async ValueTask DisposeAsync()
    {
        await _stopping.CancelAsync().ConfigureAwait(false);
        if (_app is not null)
        {
            await _app.StopAsync(CancellationToken.None).ConfigureAwait(false);
            await _app.DisposeAsync().ConfigureAwait(false);
        }

        _stopping.Dispose();
    }

    /// <summary>The next <paramref name="count"/> calls matching <paramref name="when"/> (all, if null) fail with <paramref name="fault"/>.</summary>
    public void FailNext(int count, GraphFault fault, Func<GraphRequest, bool>? when = null)
    {
        lock (_lock)
        {
            for (var i = 0; i < count; i++) _faults.Add((fault, when ?? (_ => true)));
        }
    }

    /// <summary>Faults injected and not yet used.</summary>
    public int PendingFaults
    {
        get
        {
            lock (_lock) return _faults.Count;
        }
    }

    /// <summary>
    /// From now on every <paramref name="every"/>-th call (top level or batch item, counted together; the $batch envelope
    /// itself is not a call) is answered 429 with <see cref="FaultRetryAfter"/>: <paramref name="every"/> = 2 throttles
    /// exactly half of all calls, and a call retried on its own always gets through on the next try.
    /// </summary>
    public void StartThrottleStorm(int every = 2)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(every, 2);
        lock (_lock)
        {
            StormEvery = every;
            _stormCounter = 0;
        }
    }

    /// <summary>Ends a storm started with <see cref="StartThrottleStorm"/>.</summary>
    public void StopThrottleStorm()
    {
        lock (_lock) StormEvery = 0;
    }

    /// <summary>
    /// When set, a bearer token is taken only if this says so (token, audience as scheme://host:port), as Graph takes only
    /// tokens Entra issued for it, e.g. <see cref="EntraLoginEmulator.Accepts"/>; when null, any non-empty bearer token.
    /// </summary>
    public Func<string, string, bool>? AcceptToken { get; set; }

    /// <summary>0 when no storm is on.</summary>
    public int StormEvery { get; private set; }

    /// <summary>Completes when a call matching <paramref name="predicate"/> has arrived (already, or later): a signal, not a poll.</summary>
    public async Task<GraphRequest> WaitForRequestAsync(Func<GraphRequest, bool> predicate, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(predicate);
        while (true)
        {
            Task next;
            lock (_lock)
            {
                var found = _requests.FirstOrDefault(predicate);
                if (found is not null) return found;
                next = _recorded.Task;
            }

            await next.WaitAsync(cancellationToken).ConfigureAwait(false);
        }
    }

    /// <summary>Clears the request log (the tenant is kept).</summary>
    public void ClearRequests()
    {
        lock (_lock) _requests.Clear();
    }

    /// <summary>Runs <paramref name="change"/> on the tenant under the emulator's lock (safe while calls are in flight).</summary>
    public T Change<T>(Func<GraphTenant, T> change)
    {
        ArgumentNullException.ThrowIfNull(change);
        lock (_lock) return change(Tenant);
    }

    /// <summary>Adds a user (mail = UPN, mailNickname = the part before '@'); <paramref name="userType"/> "Guest" makes a guest.</summary>
    public GraphUser AddUser(string id, string userPrincipalName, bool enabled = true, string userType = "Member")
    {
        var user = new GraphUser(id, userPrincipalName)
        {
            AccountEnabled = enabled,
            UserType = userType,
            Mail = userPrincipalName,
            MailNickname = userPrincipalName.Split('@')[0],
            DisplayName = userPrincipalName.Split('@')[0],
        };
        lock (_lock) Tenant.Users[id] = user;
        return user;
    }

    /// <summary>Adds a group; dynamic groups get groupTypes DynamicMembership and a rule, synced ones onPremisesSyncEnabled.</summary>
    public GraphGroup AddGroup(string id, string displayName, bool dynamic = false, bool synced = false, bool roleAssignable = false)
    {
        var group = new GraphGroup(id, displayName) { OnPremisesSyncEnabled = synced ? true : null, IsAssignableToRole = roleAssignable };
        if (dynamic)
        {
            group.GroupTypes.Add("DynamicMembership");
            group.MembershipRule = "user.department -eq \"Sales\"";
        }

        lock (_lock) Tenant.Groups[id] = group;
        return group;
    }

    /// <summary>
    /// Assigns a role (by display name or id) actively to a user or a role-assignable group; <paramref name="activated"/>
    /// makes it a PIM activation (listed only among roleAssignmentScheduleInstances). Returns the assignment.
    /// </summary>
    public GraphRoleAssignment AssignRole(string principalId, string role, bool activated = false)
    {
        lock (_lock)
        {
            var definition = RoleDefinition(role) ?? throw new ArgumentException($"no role '{role}' in the emulated tenant", nameof(role));
            if (Tenant.Groups.TryGetValue(principalId, out var group) && !group.IsAssignableToRole)
            {
                throw new ArgumentException($"group '{group.DisplayName}' is not role-assignable (isAssignableToRole is false); Graph refuses directory roles for it", nameof(principalId));
            }

            var assignment = new GraphRoleAssignment(NewId(), principalId, definition.Id)
            {
                Activated = activated,
                StartDateTime = activated ? _time.GetUtcNow() : null,
                EndDateTime = activated ? _time.GetUtcNow().AddHours(8) : null,
            };
            Tenant.RoleAssignments.Add(assignment);
            return assignment;
        }
    }

    /// <summary>Makes the principal PIM-eligible for a role (not active).</summary>
    public GraphRoleEligibility MakeEligible(string principalId, string role)
    {
        lock (_lock)
        {
            var definition = RoleDefinition(role) ?? throw new ArgumentException($"no role '{role}' in the emulated tenant", nameof(role));
            var eligibility = new GraphRoleEligibility(NewId(), principalId, definition.Id);
            Tenant.RoleEligibilities.Add(eligibility);
            return eligibility;
        }
    }

    /// <summary>Puts a user at risk in Identity Protection (what riskyUsers?$filter=riskLevel eq 'high' lists).</summary>
    public GraphRiskyUser SetRisk(string userId, string riskLevel = "high", string riskState = "atRisk", string riskDetail = "none")
    {
        lock (_lock)
        {
            var risky = RiskyUser(userId);
            risky.RiskLevel = riskLevel;
            risky.RiskState = riskState;
            risky.RiskDetail = riskDetail;
            risky.RiskLastUpdatedDateTime = _time.GetUtcNow();
            return risky;
        }
    }

    /// <summary>Adds an alert naming users as evidence; created and last updated now unless set afterwards.</summary>
    public GraphAlert AddAlert(string title, string severity = "high", params GraphUser[] users)
    {
        ArgumentNullException.ThrowIfNull(users);
        var alert = new GraphAlert("da" + NewId().Replace("-", "", StringComparison.Ordinal)[..30], title)
        {
            Severity = severity,
            CreatedDateTime = _time.GetUtcNow(),
            LastUpdateDateTime = _time.GetUtcNow(),
        };
        foreach (var user in users)
        {
            var at = user.UserPrincipalName.IndexOf('@', StringComparison.Ordinal);
            alert.Users.Add(new GraphUserEvidence(user.Id, user.UserPrincipalName)
            {
                AccountName = at > 0 ? user.UserPrincipalName[..at] : user.UserPrincipalName,
                DomainName = at > 0 ? user.UserPrincipalName[(at + 1)..] : null,
                DisplayName = user.DisplayName,
            });
        }

        lock (_lock) Tenant.Alerts.Add(alert);
        return alert;
    }

    /// <summary>
    /// Seeds the tenant from a connector contract directory: nesting becomes group-in-group membership, dynamic and synced
    /// flags become groupTypes and onPremisesSyncEnabled, roles become active assignments (a group's to the group, made
    /// role-assignable), eligible roles PIM eligibilities, MFA policies become conditional-access policies listing the user.
    /// </summary>
    public void Load(ContractDirectory directory)
    {
        ArgumentNullException.ThrowIfNull(directory);
        foreach (var group in directory.Groups) AddGroup(group.Id, group.Name, group.Dynamic, group.Synced, group.RoleAssignable || !group.Roles.IsEmpty);
        GraphGroup GroupNamed(string name) => Tenant.Groups.Values.First(g => string.Equals(g.DisplayName, name, StringComparison.OrdinalIgnoreCase));
        foreach (var group in directory.Groups)
        {
            foreach (var parent in group.MemberOf) GroupNamed(parent).Members.Add(group.Id);
            foreach (var role in group.Roles) AssignRole(group.Id, role);
        }

        foreach (var entry in directory.Users)
        {
            var user = AddUser(entry.Id, entry.Upn ?? entry.Name + "@corp.example.com", entry.Enabled, entry.Guest ? "Guest" : "Member");
            user.Mail = entry.Email;
            user.MailNickname = entry.Name;
            user.DisplayName = entry.DisplayName ?? entry.Name;
            user.ForceChangePasswordNextSignIn = entry.PasswordMustChange;
            user.SignInSessionsValidFromDateTime = entry.SessionsRevokedAt;
            user.LastSignInDateTime = entry.LastSignInAt ?? _time.GetUtcNow().AddHours(-1);
            foreach (var name in entry.Groups) GroupNamed(name).Members.Add(user.Id);
            foreach (var role in entry.Roles) AssignRole(user.Id, role);
            foreach (var role in entry.EligibleRoles) MakeEligible(user.Id, role);
            if (entry.RiskState is { } risk && risk != RiskStates.None) SetRisk(user.Id, "high", GraphRiskState(risk));
        }
    }

    /// <summary>The account as the tenant holds it, in the snapshot's terms, for contract checks (read here, not through the connector).</summary>
    public Identity? Inspect(string userId)
    {
        lock (_lock)
        {
            if (!Tenant.Users.TryGetValue(userId, out var user)) return null;
            var direct = Tenant.Groups.Values.Where(g => g.Members.Contains(user.Id)).ToList();
            var roles = Tenant.RoleAssignments.Where(a => a.PrincipalId == user.Id)
                .Select(a => Tenant.RoleDefinitions.GetValueOrDefault(a.RoleDefinitionId)?.DisplayName).OfType<string>().Distinct().ToList();
            var policies = Tenant.ConditionalAccessPolicies.Values
                .Where(p => p["conditions"]?["users"]?["includeUsers"] is JsonArray users && users.Any(u => string.Equals(u?.GetValue<string>(), user.Id, StringComparison.OrdinalIgnoreCase)))
                .Select(p => p["displayName"]!.GetValue<string>()).ToList();
            var entry = new UserEntry(Provider.Entra, user.Id, user.MailNickname ?? user.UserPrincipalName)
            {
                Upn = user.UserPrincipalName,
                Email = user.Mail,
                DisplayName = user.DisplayName,
                Enabled = user.AccountEnabled,
                Guest = user.UserType == "Guest",
                Groups = [.. direct.Select(g => g.DisplayName)],
                Roles = roles,
                EligibleRoles = [.. Tenant.RoleEligibilities.Where(e => e.PrincipalId == user.Id)
                    .Select(e => Tenant.RoleDefinitions.GetValueOrDefault(e.RoleDefinitionId)?.DisplayName).OfType<string>().Distinct()],
                PasswordMustChange = user.ForceChangePasswordNextSignIn,
                SessionsRevokedAt = user.SignInSessionsValidFromDateTime,
                LastSignInAt = user.LastSignInDateTime,
                RiskState = Tenant.RiskyUsers.TryGetValue(user.Id, out var risky) ? SnakeRiskState(risky.RiskState) : RiskStates.None,
                MfaPolicies = policies,
            };
            var groups = Tenant.Groups.Values.Select(g => new Group(Provider.Entra, g.Id, g.DisplayName)
            {
                Dynamic = g.Dynamic,
                Synced = g.OnPremisesSyncEnabled == true,
                RoleAssignable = g.IsAssignableToRole,
                Roles = [.. Tenant.RoleAssignments.Where(a => a.PrincipalId == g.Id)
                    .Select(a => Tenant.RoleDefinitions.GetValueOrDefault(a.RoleDefinitionId)?.DisplayName).OfType<string>().Distinct()],
                MemberOf = [.. Tenant.Groups.Values.Where(p => p.Members.Contains(g.Id)).Select(p => p.DisplayName)],
            });
            return DirectorySnapshot.Build([entry], groups, PrivilegedPolicy.Default).Users[0];
        }
    }

    /// <summary>Graph's camelCase risk state for the snapshot's snake_case one.</summary>
    public static string GraphRiskState(string snake) => snake switch
    {
        RiskStates.AtRisk => "atRisk",
        RiskStates.ConfirmedSafe => "confirmedSafe",
        RiskStates.ConfirmedCompromised => "confirmedCompromised",
        _ => snake,
    };

    /// <summary>The snapshot's snake_case risk state for Graph's camelCase one.</summary>
    public static string SnakeRiskState(string graph) => graph switch
    {
        "atRisk" => RiskStates.AtRisk,
        "confirmedSafe" => RiskStates.ConfirmedSafe,
        "confirmedCompromised" => RiskStates.ConfirmedCompromised,
        _ => graph,
    };

    /// <summary>A raw path decoded, without the /v1.0 prefix.</summary>
    public static string Decode(string rawPath)
    {
        ArgumentNullException.ThrowIfNull(rawPath);
        var path = string.Join('/', rawPath.Split('/').Select(Uri.UnescapeDataString));
        return path.StartsWith("/v1.0/", StringComparison.Ordinal) ? path[5..] : path;
    }

    private async Task HandleAsync(HttpContext context)
    {
        var raw = context.Features.Get<IHttpRequestFeature>()!.RawTarget;
        var method = context.Request.Method;
        string? body = null;
        if (context.Request.ContentLength is > 0 || context.Request.Headers.TransferEncoding.Count > 0)
        {
            using var reader = new StreamReader(context.Request.Body, Encoding.UTF8);
            body = await reader.ReadToEndAsync(context.RequestAborted).ConfigureAwait(false);
        }

        var authorization = context.Request.Headers.Authorization.ToString();
        Answer answer;
        lock (_lock)
        {
            if (!authorization.StartsWith("Bearer ", StringComparison.Ordinal) || authorization.Length <= "Bearer ".Length)
            {
                answer = Record(raw, method, body, inBatch: false, Error(401, "InvalidAuthenticationToken", "Access token is empty."));
            }
            else if (AcceptToken is { } accept && !accept(authorization["Bearer ".Length..], $"{BaseUrl.Scheme}://{BaseUrl.Authority}"))
            {
                answer = Record(raw, method, body, inBatch: false, Error(401, "InvalidAuthenticationToken", "Access token validation failure. Invalid audience or signature."));
            }
            else
            {
                var (path, _) = Split(raw);
                answer = Decode(path) == "/$batch" && method == "POST"
                    ? Batch(raw, body)
                    : Dispatch(method, raw, body, inBatch: false);
            }
        }

        if (answer.Fault == GraphFault.ConnectionReset)
        {
            context.Abort();
            return;
        }

        if (answer.Fault == GraphFault.Timeout)
        {
            using var linked = CancellationTokenSource.CreateLinkedTokenSource(context.RequestAborted, _stopping.Token);
            try
            {
                await Task.Delay(Timeout.InfiniteTimeSpan, linked.Token).ConfigureAwait(false);
            }
            catch (OperationCanceledException)
            {
                // The client gave up, or the emulator is stopping: either way nobody is waiting for an answer.
            }

            context.Abort();
            return;
        }

        context.Response.StatusCode = answer.Status;
        foreach (var (name, value) in answer.Headers) context.Response.Headers[name] = value;
        context.Response.Headers["request-id"] = Guid.NewGuid().ToString();
        if (answer.Body is not null)
        {
            context.Response.ContentType = "application/json; odata.metadata=minimal; odata.streaming=true; IEEE754Compatible=false; charset=utf-8";
            await context.Response.WriteAsync(answer.Body.ToJsonString(), context.RequestAborted).ConfigureAwait(false);
        }
    }

    private Answer Batch(string raw, string? body)
    {
        JsonArray requests;
        try
        {
            requests = JsonNode.Parse(body ?? "")?["requests"] as JsonArray ?? throw new JsonException("no requests array");
        }
        catch (JsonException e)
        {
            return Record(raw, "POST", body, false, Error(400, "BadRequest", $"Invalid batch payload format: {e.Message}"));
        }

        if (requests.Count > 20) return Record(raw, "POST", body, false, Error(400, "BadRequest", "Too many requests in a batch. The limit is 20."));

        // The batch call itself may be throttled or faulted like any other.
        var outer = Screen("POST", raw, body, false);
        if (outer is not null) return Record(raw, "POST", body, false, outer);
        Record(raw, "POST", body, false, new Answer(200, null));
        var responses = new JsonArray();
        foreach (var item in requests)
        {
            var id = item?["id"]?.ToString() ?? "";
            var itemMethod = item?["method"]?.GetValue<string>()?.ToUpperInvariant() ?? "GET";
            var url = item?["url"]?.GetValue<string>() ?? "/";
            if (url.StartsWith("http", StringComparison.OrdinalIgnoreCase) && Uri.TryCreate(url, UriKind.Absolute, out var absolute)) url = absolute.PathAndQuery;
            if (!url.StartsWith('/')) url = "/" + url;
            if (!url.StartsWith("/v1.0/", StringComparison.Ordinal)) url = "/v1.0" + url;
            var itemBody = item?["body"] is { } b ? b.ToJsonString() : null;
            var answer = Dispatch(itemMethod, url, itemBody, inBatch: true);
            if (answer.Fault is GraphFault.ConnectionReset or GraphFault.Timeout) answer = Error(504, "GatewayTimeout", "The request timed out.");
            var headers = new JsonObject();
            foreach (var (name, value) in answer.Headers) headers[name] = value;
            if (answer.Body is not null) headers["Content-Type"] = "application/json";
            var response = new JsonObject { ["id"] = id, ["status"] = answer.Status, ["headers"] = headers };
            if (answer.Body is not null) response["body"] = answer.Body.DeepClone();
            responses.Add(response);
        }

        return new Answer(200, new JsonObject { ["responses"] = responses });
    }

    /// <summary>Faults, the storm and the token buckets, in that order; null when the call may go through.</summary>
    private Answer? Screen(string method, string raw, string? body, bool inBatch)
    {
        var (path, query) = Split(raw);
        var probe = new GraphRequest(_sequence + 1, _time.GetUtcNow(), method, path, query, 0, inBatch, body, null);
        var index = _faults.FindIndex(f => f.When(probe));
        if (index >= 0)
        {
            var fault = _faults[index].Fault;
            _faults.RemoveAt(index);
            return fault switch
            {
                GraphFault.Throttled when FaultRetryAfterText is { } text => Error(429, "TooManyRequests", "Too many requests.") with { Headers = [("Retry-After", text)] },
                GraphFault.Throttled => Throttle(FaultRetryAfter),
                GraphFault.ThrottledWithoutRetryAfter => Throttle(null),
                GraphFault.ServiceUnavailable => Error(503, "ServiceUnavailable", "The service is temporarily unavailable.") with
                {
                    Headers = [("Retry-After", Seconds(FaultRetryAfter))],
                },
                GraphFault.GatewayTimeout => Error(504, "GatewayTimeout", "The request timed out."),
                GraphFault.ServerError => Error(500, "generalException", "An unexpected error occurred."),
                GraphFault.Forbidden => Error(403, "Authorization_RequestDenied", "Insufficient privileges to complete the operation."),
                _ => new Answer(0, null) { Fault = fault },
            };
        }

        var decoded = Decode(path);

        // The storm counts calls, not envelopes: each item of a batch is a call, the $batch POST around them is not.
        if (StormEvery > 0 && decoded != "/$batch" && ++_stormCounter % StormEvery == 0) return Throttle(FaultRetryAfter);

        if (method != "GET" && (decoded.StartsWith("/identity/conditionalAccess", StringComparison.OrdinalIgnoreCase)
                                || decoded.StartsWith("/identityProtection", StringComparison.OrdinalIgnoreCase)))
        {
            var wait = Take("policy-writes", PolicyWriteLimit);
            if (wait is not null) return Throttle(OmitRetryAfterOnPolicyWrites ? null : wait);
        }

        if (decoded != "/$batch")
        {
            var wait = method == "GET" ? Take("reads", ReadLimit) : Take("writes", WriteLimit);
            if (wait is not null) return Throttle(wait);
        }

        return null;
    }

    /// <summary>Takes a token; returns how long until one is available when the bucket is empty.</summary>
    private TimeSpan? Take(string bucket, GraphLimit limit)
    {
        var now = _time.GetUtcNow();
        var rate = limit.Tokens / limit.Window.TotalSeconds;
        var (tokens, at) = _buckets.GetValueOrDefault(bucket, (limit.Tokens, now));
        tokens = Math.Min(limit.Tokens, tokens + (now - at).TotalSeconds * rate);
        if (tokens >= 1)
        {
            _buckets[bucket] = (tokens - 1, now);
            return null;
        }

        _buckets[bucket] = (tokens, now);
        return TimeSpan.FromSeconds((1 - tokens) / rate);
    }

    private Answer Dispatch(string method, string raw, string? body, bool inBatch)
    {
        var screened = Screen(method, raw, body, inBatch);
        if (screened is not null) return Record(raw, method, body, inBatch, screened);
        Answer answer;
        try
        {
            answer = Route(method, raw, body);
        }
        catch (FormatException e)
        {
            answer = Error(400, "BadRequest", e.Message);
        }
        catch (JsonException e)
        {
            answer = Error(400, "BadRequest", $"Unable to read JSON request payload: {e.Message}");
        }
        catch (InvalidOperationException e)
        {
            answer = Error(400, "BadRequest", e.Message);
        }

        return Record(raw, method, body, inBatch, answer);
    }

    private Answer Record(string raw, string method, string? body, bool inBatch, Answer answer)
    {
        var (path, query) = Split(raw);
        var retryAfter = answer.Headers.Where(h => h.Name == "Retry-After")
            .Select(h => double.TryParse(h.Value, NumberStyles.Float, CultureInfo.InvariantCulture, out var seconds) ? (TimeSpan?)TimeSpan.FromSeconds(seconds) : null).FirstOrDefault();
        _requests.Add(new GraphRequest(++_sequence, _time.GetUtcNow(), method, path, query, answer.Status, inBatch, body, retryAfter));
        var recorded = _recorded;
        _recorded = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        recorded.TrySetResult();
        return answer;
    }

    private static (string Path, string Query) Split(string raw)
    {
        var q = raw.IndexOf('?', StringComparison.Ordinal);
        return q < 0 ? (raw, "") : (raw[..q], raw[(q + 1)..]);
    }

    private static Answer Throttle(TimeSpan? retryAfter)
    {
        var answer = Error(429, "TooManyRequests", "Too many requests.");
        return retryAfter is { } wait ? answer with { Headers = [("Retry-After", Seconds(wait))] } : answer;
    }

    private static string Seconds(TimeSpan wait) => Math.Max(1, (int)Math.Ceiling(wait.TotalSeconds)).ToString(CultureInfo.InvariantCulture);

    private Answer Error(int status, string code, string message) => Error(status, code, message, _time.GetUtcNow());

    private static Answer Error(int status, string code, string message, DateTimeOffset now = default) => new(status, new JsonObject
    {
        ["error"] = new JsonObject
        {
            ["code"] = code,
            ["message"] = message,
            ["innerError"] = new JsonObject
            {
                ["date"] = now.UtcDateTime.ToString("yyyy-MM-ddTHH:mm:ss", CultureInfo.InvariantCulture),
                ["request-id"] = Guid.NewGuid().ToString(),
                ["client-request-id"] = Guid.NewGuid().ToString(),
            },
        },
    });

    private static string NewId() => Guid.NewGuid().ToString();

    private GraphRoleDefinition? RoleDefinition(string nameOrId) =>
        Tenant.RoleDefinitions.GetValueOrDefault(nameOrId)
        ?? Tenant.RoleDefinitions.Values.FirstOrDefault(r => string.Equals(r.DisplayName, nameOrId, StringComparison.OrdinalIgnoreCase));

    private GraphRiskyUser RiskyUser(string userId)
    {
        if (!Tenant.RiskyUsers.TryGetValue(userId, out var risky))
        {
            var user = Tenant.Users.GetValueOrDefault(userId);
            Tenant.RiskyUsers[userId] = risky = new GraphRiskyUser(userId)
            {
                UserPrincipalName = user?.UserPrincipalName,
                UserDisplayName = user?.DisplayName,
                RiskLastUpdatedDateTime = _time.GetUtcNow(),
            };
        }

        return risky;
    }

    /// <summary>One answer: status, headers, JSON body; or a transport fault.</summary>
    private sealed record Answer(int Status, JsonObject? Body)
    {
        public IReadOnlyList<(string Name, string Value)> Headers { get; init; } = [];

        public GraphFault? Fault { get; init; }
    }
}
