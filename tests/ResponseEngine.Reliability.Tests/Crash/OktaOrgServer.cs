using System.Net;
using System.Net.Sockets;
using Microsoft.Data.Sqlite;
using ResponseEngine.TestKit.Okta;

namespace ResponseEngine.Reliability.Tests.Crash;

/// <summary>One change the org really made: what, to whom, and whether an open intent row existed when it was made.</summary>
public sealed record Effect(string Action, string UserId, string? GroupId, bool IntentWasOpen);

/// <summary>
/// The Okta emulator served over real HTTP on loopback, so that an engine in another process can call it and die while the
/// org — the ground truth — lives on in the test. Every state-changing call is checked against the audit file at the moment
/// it arrives (an open intent for that action and user must already be durable) and every call that changed the org is
/// recorded as an <see cref="Effect"/>: duplicates are counted in the org, never inferred from audit rows.
/// </summary>
public sealed class OktaOrgServer : IAsyncDisposable
{
    private readonly HttpListener _listener = new();
    private readonly CancellationTokenSource _stop = new();
    private readonly Task _loop;
    private readonly Lock _lock = new();
    private readonly List<Effect> _effects = [];
    private OktaEmulator? _org;
    private string? _auditFile;
    private Hold? _hold;
    private int _changes;

    /// <summary>A state-changing call to stop at: the Nth from when it was set, before or after it reaches the org.</summary>
    private sealed record Hold(int Nth, bool ApplyFirst, TaskCompletionSource<(string Action, string UserId)> Held, TaskCompletionSource Released);

    public OktaOrgServer()
    {
        // A free port on loopback; the listener is bound before anything is told the address.
        for (var attempt = 0; ; attempt++)
        {
            var probe = new TcpListener(IPAddress.Loopback, 0);
            probe.Start();
            var port = ((IPEndPoint)probe.LocalEndpoint).Port;
            probe.Stop();
            BaseUrl = new Uri($"http://127.0.0.1:{port}/");
            _listener.Prefixes.Clear();
            _listener.Prefixes.Add(BaseUrl.AbsoluteUri);
            try
            {
                _listener.Start();
                break;
            }
            catch (HttpListenerException) when (attempt < 5)
            {
            }
        }

        _loop = Task.Run(ServeAsync);
    }

    public Uri BaseUrl { get; }

    /// <summary>Calls answered, for the figures.</summary>
    public int Calls { get; private set; }

    public IReadOnlyList<Effect> Effects
    {
        get
        {
            lock (_lock) return [.. _effects];
        }
    }

    /// <summary>Serves <paramref name="org"/> from now on; <paramref name="auditFile"/> is the engine's SQLite trail to check intents in.</summary>
    public void Serve(OktaEmulator org, string auditFile)
    {
        lock (_lock)
        {
            _org = org;
            _auditFile = auditFile;
            _effects.Clear();
            Calls = 0;
            _changes = 0;
            _hold = null;
        }
    }

    /// <summary>
    /// Holds the <paramref name="nth"/> state-changing call from now on, and every call after it (one call at a time), until
    /// <see cref="Release"/>: with <paramref name="applyFirst"/> the org changes and the answer never leaves (the engine dies
    /// not knowing), otherwise the call never reaches the org. The task completes with the call's action and user once it is held.
    /// </summary>
    public Task<(string Action, string UserId)> HoldChangeAsync(int nth, bool applyFirst)
    {
        var hold = new Hold(nth, applyFirst, new(TaskCreationOptions.RunContinuationsAsynchronously), new(TaskCreationOptions.RunContinuationsAsynchronously));
        lock (_lock)
        {
            _changes = 0;
            _hold = hold;
        }

        return hold.Held.Task;
    }

    /// <summary>Lets the held call go on: its answer goes to a connection whose engine is gone, and a call held before the org is dropped.</summary>
    public void Release()
    {
        Hold? hold;
        lock (_lock)
        {
            hold = _hold;
            _hold = null;
        }

        hold?.Released.TrySetResult();
    }

    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync();
        _listener.Stop();
        try
        {
            await _loop;
        }
        catch (ObjectDisposedException)
        {
        }

        _listener.Close();
        _stop.Dispose();
        SqliteConnection.ClearAllPools();
    }

    private async Task ServeAsync()
    {
        while (!_stop.IsCancellationRequested)
        {
            HttpListenerContext context;
            try
            {
                context = await _listener.GetContextAsync();
            }
            catch (Exception e) when (e is HttpListenerException or ObjectDisposedException or InvalidOperationException)
            {
                return;
            }

            // One call at a time, in arrival order: the engine under test runs one action at a time per provider.
            try
            {
                await AnswerAsync(context);
            }
            catch (Exception e) when (e is HttpListenerException or IOException or ObjectDisposedException)
            {
                // The engine died mid-call (that is the point of these tests); the org's state is what counts.
            }
        }
    }

    private async Task AnswerAsync(HttpListenerContext context)
    {
        OktaEmulator org;
        string auditFile;
        lock (_lock)
        {
            org = _org ?? throw new InvalidOperationException("no org is being served");
            auditFile = _auditFile!;
            Calls++;
        }

        var incoming = context.Request;
        using var request = new HttpRequestMessage(new HttpMethod(incoming.HttpMethod), new Uri(org.BaseUrl, incoming.RawUrl));
        if (incoming.Headers["Authorization"] is { } authorization) request.Headers.TryAddWithoutValidation("Authorization", authorization);
        if (incoming.HttpMethod is "POST" or "PUT")
        {
            using var body = new MemoryStream();
            await incoming.InputStream.CopyToAsync(body);
            request.Content = new ByteArrayContent(body.ToArray());
        }

        var change = ChangeOf(request);
        var before = change is null ? null : Fingerprint(org, change.Value.UserId, change.Value.GroupId);
        var intentOpen = change is not null && HasOpenIntent(auditFile, change.Value.Action, change.Value.UserId);
        Hold? hold = null;
        if (change is not null)
        {
            lock (_lock)
            {
                if (_hold is { } h && ++_changes == h.Nth) hold = h;
            }
        }

        if (hold is { ApplyFirst: false })
        {
            hold.Held.TrySetResult((change!.Value.Action, change.Value.UserId));
            await hold.Released.Task;
            context.Response.Abort();
            return;
        }

        using var invoker = new HttpMessageInvoker(org, disposeHandler: false);
        using var response = await invoker.SendAsync(request, CancellationToken.None);
        if (change is { } c && Fingerprint(org, c.UserId, c.GroupId) != before)
        {
            lock (_lock) _effects.Add(new Effect(c.Action, c.UserId, c.GroupId, intentOpen));
        }

        if (hold is not null)
        {
            hold.Held.TrySetResult((change!.Value.Action, change.Value.UserId));
            await hold.Released.Task;
        }

        var outgoing = context.Response;
        outgoing.StatusCode = (int)response.StatusCode;
        foreach (var header in response.Headers)
        {
            foreach (var value in header.Value) outgoing.Headers.Add(header.Key, value);
        }

        var bytes = await response.Content.ReadAsByteArrayAsync();
        outgoing.ContentType = response.Content.Headers.ContentType?.ToString();
        outgoing.ContentLength64 = bytes.Length;
        await outgoing.OutputStream.WriteAsync(bytes);
        outgoing.Close();
    }

    /// <summary>The engine action a state-changing Okta call carries out, and on whom.</summary>
    private static (string Action, string UserId, string? GroupId)? ChangeOf(HttpRequestMessage request)
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

    private static string Fingerprint(OktaEmulator org, string userId, string? groupId)
    {
        if (!org.Users.TryGetValue(userId, out var user)) return "missing";
        var member = groupId is not null && org.Groups.TryGetValue(groupId, out var group) && group.Members.Contains(userId);
        // State, not calls: clearing sessions that are already cleared (an idempotent DELETE repeated) changes nothing.
        var sessionsCleared = user.SessionsClearedAt is { } cleared && (user.LastLogin is null || cleared >= user.LastLogin);
        return $"{user.Status}|{sessionsCleared}|{member}";
    }

    /// <summary>Whether the trail holds, durably, an intent for this action on this user that has no outcome yet.</summary>
    private static bool HasOpenIntent(string auditFile, string action, string userId)
    {
        if (!File.Exists(auditFile)) return false;
        using var connection = new SqliteConnection(new SqliteConnectionStringBuilder { DataSource = auditFile, Mode = SqliteOpenMode.ReadOnly, Pooling = false }.ToString());
        connection.Open();
        using var command = connection.CreateCommand();
        command.CommandText = """
            SELECT COUNT(*) FROM audit_log AS i
            WHERE i.status = 'intended' AND i.action = $action AND i.identity_id = $id
              AND NOT EXISTS (SELECT 1 FROM audit_log AS o WHERE o.intent_sequence = i.sequence)
            """;
        command.Parameters.AddWithValue("$action", action);
        command.Parameters.AddWithValue("$id", userId);
        return (long)command.ExecuteScalar()! > 0;
    }
}
