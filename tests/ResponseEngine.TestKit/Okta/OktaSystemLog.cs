using System.Globalization;
using System.Text.Json.Nodes;

namespace ResponseEngine.TestKit.Okta;

/// <summary>
/// The System Log as a poller reads it (GET /api/v1/logs without a filter): events since a time in ascending order, then
/// the opaque <c>next</c> link, which Okta always returns for a polling request — an empty page keeps the same link, so a
/// client that persists it resumes exactly where it stopped. Events are whole Okta event objects a test adds.
/// </summary>
public sealed partial class OktaEmulator
{
    /// <summary>Events the poller endpoint serves, in the order they were logged (Okta's <c>after</c> cursor is an index here).</summary>
    public List<JsonObject> SystemLog { get; } = [];

    /// <summary>Logs an event about a user, as Okta would write it: actor, target, client, debugContext.debugData (risk, threatSuspected).</summary>
    public JsonObject LogEvent(string eventType, string userId, string login, string? risk = null, bool threatSuspected = false, string outcome = "SUCCESS")
    {
        var debug = new JsonObject();
        if (risk is not null) debug["risk"] = risk;
        if (threatSuspected) debug["threatSuspected"] = "true";
        var user = new JsonObject { ["id"] = userId, ["type"] = "User", ["alternateId"] = login, ["displayName"] = login };
        var evt = new JsonObject
        {
            ["uuid"] = Guid.NewGuid().ToString(),
            ["published"] = _time.GetUtcNow().ToString("yyyy-MM-dd'T'HH:mm:ss.fff'Z'", CultureInfo.InvariantCulture),
            ["eventType"] = eventType,
            ["displayMessage"] = eventType,
            ["severity"] = "INFO",
            ["actor"] = user.DeepClone(),
            ["client"] = new JsonObject { ["ipAddress"] = "198.51.100.7" },
            ["outcome"] = new JsonObject { ["result"] = outcome },
            ["target"] = new JsonArray(user),
            ["debugContext"] = new JsonObject { ["debugData"] = debug },
        };
        lock (_lock) SystemLog.Add(evt);
        return evt;
    }

    private HttpResponseMessage PollSystemLog(Uri uri, Dictionary<string, string> query)
    {
        var limit = Math.Min(MaxPageSize, query.TryGetValue("limit", out var l) && int.TryParse(l, CultureInfo.InvariantCulture, out var n) ? n : 100);
        int start;
        if (query.TryGetValue("after", out var after) && int.TryParse(after, CultureInfo.InvariantCulture, out var a))
        {
            start = a;
        }
        else
        {
            var since = query.TryGetValue("since", out var s) ? DateTimeOffset.Parse(s, CultureInfo.InvariantCulture) : _time.GetUtcNow().AddMinutes(-15);
            start = SystemLog.FindIndex(e => DateTimeOffset.Parse(e["published"]!.GetValue<string>(), CultureInfo.InvariantCulture) >= since);
            if (start < 0) start = SystemLog.Count;
        }

        var page = SystemLog.Skip(start).Take(limit).Select(e => (JsonNode)e.DeepClone()).ToList();
        var response = Json(new JsonArray([.. page]));
        var path = uri.GetLeftPart(UriPartial.Path);
        response.Headers.TryAddWithoutValidation("Link", $"<{path}{uri.Query}>; rel=\"self\"");
        response.Headers.TryAddWithoutValidation("Link", $"<{path}?limit={limit}&after={start + page.Count}>; rel=\"next\"");
        return response;
    }
}
