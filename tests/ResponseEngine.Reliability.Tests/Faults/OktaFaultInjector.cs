using System.Globalization;
using System.Net;
using System.Net.Sockets;
using ResponseEngine.Audit;
using ResponseEngine.TestKit.Okta;

namespace ResponseEngine.Reliability.Tests.Faults;

/// <summary>What went wrong with one call, from the engine's side of the wire.</summary>
public enum WireFault
{
    None,

    /// <summary>The client's deadline passed before the org saw the call.</summary>
    TimeoutBefore,

    /// <summary>The org acted, and the answer never came (the ambiguous case: did it happen?).</summary>
    TimeoutAfter,

    ServerError500,
    ServiceUnavailable503,
    TooManyRequests429,

    /// <summary>TCP reset before the request reached the org.</summary>
    ResetBefore,

    /// <summary>TCP reset after the org acted: the change is in place, the client sees an error.</summary>
    ResetAfter,
}

/// <summary>One call as the engine made it, and what it got.</summary>
public sealed record WireCall(int Index, string Method, string PathAndQuery, WireFault Fault, int Status);

/// <summary>
/// Sits between the Okta connector and the emulated org and, with a seeded probability, makes a call time out, fail with
/// 500/503/429, or have its connection reset — before the org sees it, or after the org has acted. Every change the org
/// makes is checked against the audit store at that moment (an open intent for it must exist) and counted per action and
/// user, so duplicates are seen in the org itself.
/// </summary>
public sealed class OktaFaultInjector : DelegatingHandler
{
    private static readonly WireFault[] Kinds =
    [
        WireFault.TimeoutBefore, WireFault.TimeoutAfter, WireFault.ServerError500, WireFault.ServiceUnavailable503,
        WireFault.TooManyRequests429, WireFault.ResetBefore, WireFault.ResetAfter,
    ];

    private readonly Random _random;
    private readonly double _rate;
    private readonly OktaEmulator _org;
    private readonly IAuditStore _store;
    private readonly TimeProvider _time;

    public OktaFaultInjector(int seed, double rate, OktaEmulator org, IAuditStore store, TimeProvider time)
        : base(org)
    {
        _random = new Random(seed);
        _rate = rate;
        _org = org;
        _store = store;
        _time = time;
    }

    public List<WireCall> Calls { get; } = [];

    public List<(string Action, string UserId, bool IntentWasOpen)> Effects { get; } = [];

    /// <summary>State-changing calls the org accepted that changed nothing: idempotent calls repeated (e.g. after a lost answer).</summary>
    public int Repeats { get; private set; }

    /// <summary>No more faults from now on (a clean run after the faulty one).</summary>
    public bool Quiet { get; set; }

    public Dictionary<WireFault, int> Injected => Calls.Where(c => c.Fault != WireFault.None).GroupBy(c => c.Fault).ToDictionary(g => g.Key, g => g.Count());

    protected override async Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
    {
        var fault = !Quiet && _random.NextDouble() < _rate ? Kinds[_random.Next(Kinds.Length)] : WireFault.None;
        var index = Calls.Count;
        var path = request.RequestUri!.PathAndQuery;
        void Record(int status) => Calls.Add(new WireCall(index, request.Method.Method, path, fault, status));

        switch (fault)
        {
            case WireFault.TimeoutBefore:
                Record(0);
                throw new TaskCanceledException("The request was canceled due to the configured HttpClient.Timeout of 30 seconds elapsing.", new TimeoutException());
            case WireFault.ResetBefore:
                Record(0);
                throw new HttpRequestException("An error occurred while sending the request.", new IOException("Connection reset by peer", new SocketException((int)SocketError.ConnectionReset)));
            case WireFault.ServerError500:
            case WireFault.ServiceUnavailable503:
                Record(fault == WireFault.ServerError500 ? 500 : 503);
                return OktaEmulator.Error(fault == WireFault.ServerError500 ? HttpStatusCode.InternalServerError : HttpStatusCode.ServiceUnavailable, "E0000009", "Internal Server Error");
            case WireFault.TooManyRequests429:
            {
                Record(429);
                var throttled = OktaEmulator.Error((HttpStatusCode)429, "E0000047", "API call exceeded rate limit due to too many requests.");
                throttled.Headers.Add("X-Rate-Limit-Limit", "600");
                throttled.Headers.Add("X-Rate-Limit-Remaining", "0");
                throttled.Headers.Add("X-Rate-Limit-Reset", (_time.GetUtcNow().ToUnixTimeSeconds() + 2).ToString(CultureInfo.InvariantCulture));
                return throttled;
            }
        }

        var change = Change(request);
        var before = change is null ? null : Fingerprint(change.Value.UserId, change.Value.GroupId);
        var intentOpen = change is not null && (await _store.OpenIntentsAsync(cancellationToken))
            .Any(i => i.Entry.Action == change.Value.Action && i.Entry.IdentityId == change.Value.UserId);
        var response = await base.SendAsync(request, cancellationToken);
        if (change is { } c)
        {
            if (Fingerprint(c.UserId, c.GroupId) != before) Effects.Add((c.Action, c.UserId, intentOpen));
            else if (response.IsSuccessStatusCode) Repeats++;
        }

        Record((int)response.StatusCode);

        if (fault == WireFault.TimeoutAfter)
        {
            response.Dispose();
            throw new TaskCanceledException("The request was canceled due to the configured HttpClient.Timeout of 30 seconds elapsing.", new TimeoutException());
        }

        if (fault == WireFault.ResetAfter)
        {
            response.Dispose();
            throw new HttpRequestException("Error while copying content to a stream.", new IOException("Connection reset by peer", new SocketException((int)SocketError.ConnectionReset)));
        }

        return response;
    }

    private static (string Action, string UserId, string? GroupId)? Change(HttpRequestMessage request)
    {
        var path = request.RequestUri!.AbsolutePath.Split('/', StringSplitOptions.RemoveEmptyEntries).Select(Uri.UnescapeDataString).ToArray();
        return (request.Method.Method, path) switch
        {
            ("POST", ["api", "v1", "users", var id, "lifecycle", var operation]) => (operation switch
            {
                "suspend" => "disable_user",
                "unsuspend" => "enable_user",
                "deactivate" => "deactivate_user",
                "expire_password" => "reset_password",
                _ => operation,
            }, id, null),
            ("DELETE", ["api", "v1", "users", var id, "sessions"]) => ("revoke_sessions", id, null),
            ("DELETE", ["api", "v1", "groups", var group, "users", var id]) => ("revoke_group", id, group),
            _ => null,
        };
    }

    private string Fingerprint(string userId, string? groupId)
    {
        if (!_org.Users.TryGetValue(userId, out var user)) return "missing";
        var member = groupId is not null && _org.Groups.TryGetValue(groupId, out var group) && group.Members.Contains(userId);
        // State, not calls: clearing sessions that are already cleared (an idempotent DELETE repeated) changes nothing.
        var sessionsCleared = user.SessionsClearedAt is { } cleared && (user.LastLogin is null || cleared >= user.LastLogin);
        return $"{user.Status}|{sessionsCleared}|{member}";
    }
}
