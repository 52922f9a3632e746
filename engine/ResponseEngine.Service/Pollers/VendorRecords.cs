using System.Globalization;
using System.Net;
using System.Text.Json;
using System.Text.Json.Nodes;
using ResponseEngine.Findings;
using ResponseEngine.Inbox;

namespace ResponseEngine.Service.Pollers;

/// <summary>
/// Strict, bounded reading of vendor answers for the HTTP pollers: the body is read up to a limit and parsed once; each
/// record is checked (an object, every string valid Unicode) and mapped inside a fence, so a record that cannot be read
/// is a <see cref="RejectedRecord"/> naming the field, never an exception that stops the poller.
/// </summary>
public static class VendorRecords
{
    /// <summary>The largest answer a poller reads; a larger one is a fault of the source.</summary>
    public const long MaxAnswerBytes = 64L * 1024 * 1024;

    /// <summary>Reads a successful answer as JSON, or throws <see cref="PollerException"/> (429/503: <see cref="PollerThrottledException"/> with the vendor's wait).</summary>
    public static async Task<JsonDocument> ReadAsync(HttpResponseMessage response, string vendor, string what, TimeProvider time, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(response);
        if (response.StatusCode is HttpStatusCode.TooManyRequests or HttpStatusCode.ServiceUnavailable)
        {
            throw new PollerThrottledException($"{vendor} answered {(int)response.StatusCode} ({(response.StatusCode == HttpStatusCode.TooManyRequests ? "throttled" : "unavailable")}) for {what}",
                RetryAfter(response, time));
        }

        if (!response.IsSuccessStatusCode) throw new PollerException($"{vendor} answered {(int)response.StatusCode} {response.ReasonPhrase} for {what}");
        if (response.Content.Headers.ContentLength > MaxAnswerBytes) throw new PollerException($"{vendor} sent {response.Content.Headers.ContentLength} bytes for {what}, over the {MaxAnswerBytes} byte limit");
        await using var stream = await response.Content.ReadAsStreamAsync(cancellationToken);
        using var buffer = new MemoryStream();
        var chunk = new byte[81920];
        int read;
        while ((read = await stream.ReadAsync(chunk, cancellationToken)) > 0)
        {
            if (buffer.Length + read > MaxAnswerBytes) throw new PollerException($"{vendor} sent more than {MaxAnswerBytes} bytes for {what}");
            buffer.Write(chunk, 0, read);
        }

        try
        {
            return JsonDocument.Parse(buffer.ToArray());
        }
        catch (JsonException e)
        {
            throw new PollerException($"{vendor} answered something that is not JSON for {what}: {e.Message}");
        }
    }

    /// <summary>
    /// How long the vendor asks to wait: <c>Retry-After</c> in seconds (Graph sends fractions such as 2.128) or as an
    /// HTTP date, else Okta's <c>X-Rate-Limit-Reset</c> (the epoch second the window resets); null when neither is there.
    /// </summary>
    public static TimeSpan? RetryAfter(HttpResponseMessage response, TimeProvider time)
    {
        ArgumentNullException.ThrowIfNull(response);
        ArgumentNullException.ThrowIfNull(time);
        var now = time.GetUtcNow();
        if (response.Headers.TryGetValues("Retry-After", out var values) && values.FirstOrDefault()?.Trim() is { Length: > 0 } text)
        {
            if (double.TryParse(text, NumberStyles.AllowDecimalPoint, CultureInfo.InvariantCulture, out var seconds) && seconds is >= 0 and < 86_400)
            {
                return TimeSpan.FromSeconds(seconds);
            }

            if (DateTimeOffset.TryParseExact(text, "r", CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal, out var date))
            {
                return date > now ? date - now : TimeSpan.Zero;
            }
        }

        if (response.Headers.TryGetValues("X-Rate-Limit-Reset", out var resets)
            && long.TryParse(resets.FirstOrDefault(), NumberStyles.None, CultureInfo.InvariantCulture, out var epoch) && epoch < 253_402_300_799)
        {
            var reset = DateTimeOffset.FromUnixTimeSeconds(epoch);
            return reset > now ? reset - now : TimeSpan.Zero;
        }

        return null;
    }

    /// <summary>The string a node holds, or null when it is missing or not a string (a number, an object, null).</summary>
    public static string? Text(JsonNode? node) =>
        node is JsonValue value && value.GetValueKind() == JsonValueKind.String && value.TryGetValue<string>(out var text) ? text : null;

    /// <summary>Each element of a vendor list checked and mapped; what cannot be used comes back as a rejection with its reason.</summary>
    /// <param name="key">The vendor's id of a record, for the rejection's key (null: its index).</param>
    /// <param name="map">The mapping: per finding, the inbox entry, or the reason the record is not a finding.</param>
    public static (List<InboxEntry> Entries, List<RejectedRecord> Rejected) MapAll(JsonElement items, string origin, Func<JsonObject, string?> key,
        Func<JsonObject, IEnumerable<(InboxEntry? Entry, string? Problem)>> map)
    {
        ArgumentNullException.ThrowIfNull(key);
        ArgumentNullException.ThrowIfNull(map);
        var entries = new List<InboxEntry>();
        var rejected = new List<RejectedRecord>();
        if (items.ValueKind != JsonValueKind.Array) return (entries, rejected);
        var index = 0;
        foreach (var item in items.EnumerateArray())
        {
            var position = $"#{index++}";
            var raw = Raw(item);
            if (item.ValueKind != JsonValueKind.Object)
            {
                rejected.Add(new RejectedRecord(origin, position, raw, $"a record must be a JSON object, found {item.ValueKind.ToString().ToLowerInvariant()}"));
                continue;
            }

            if (JsonText.FirstUnreadable(item) is { } pointer)
            {
                rejected.Add(new RejectedRecord(origin, position, raw, $"field '{pointer}' is not valid Unicode text (a lone surrogate escape or bytes that are not UTF-8)"));
                continue;
            }

            var record = JsonNode.Parse(item.GetRawText())!.AsObject();
            var name = Text(record["id"]) ?? Text(record["uuid"]) ?? Safe(() => key(record)) ?? position;
            try
            {
                foreach (var (entry, problem) in map(record))
                {
                    if (entry is not null) entries.Add(entry);
                    else rejected.Add(new RejectedRecord(origin, name, raw, problem ?? "not a finding"));
                }
            }
            catch (Exception e) when (e is InvalidOperationException or FormatException or JsonException or ArgumentException or OverflowException or KeyNotFoundException)
            {
                rejected.Add(new RejectedRecord(origin, name, raw, $"cannot be mapped: {e.Message}"));
            }
        }

        return (entries, rejected);
    }

    /// <summary>A record's text for the quarantine (lossy when it is not UTF-8), at most <see cref="FindingReader.MaxRecordText"/> characters.</summary>
    public static string Raw(JsonElement element)
    {
        var text = System.Text.Encoding.UTF8.GetString(System.Runtime.InteropServices.JsonMarshal.GetRawUtf8Value(element));
        return text.Length > FindingReader.MaxRecordText ? text[..FindingReader.MaxRecordText] : text;
    }

    private static string? Safe(Func<string?> read)
    {
        try
        {
            return read();
        }
        catch (Exception e) when (e is InvalidOperationException or FormatException)
        {
            return null;
        }
    }
}

/// <summary>The source asked the poller to slow down (429, 503), optionally saying for how long.</summary>
public sealed class PollerThrottledException : Exception
{
    public PollerThrottledException(string message, TimeSpan? retryAfter)
        : base(message)
    {
        RetryAfter = retryAfter;
    }

    public PollerThrottledException()
    {
    }

    public PollerThrottledException(string message)
        : base(message)
    {
    }

    public PollerThrottledException(string message, Exception inner)
        : base(message, inner)
    {
    }

    /// <summary>The wait the vendor asked for (Retry-After, X-Rate-Limit-Reset), or null.</summary>
    public TimeSpan? RetryAfter { get; }
}
