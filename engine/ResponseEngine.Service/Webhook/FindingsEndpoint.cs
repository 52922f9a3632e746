using System.Text.Json;
using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;
using ResponseEngine.Audit;
using ResponseEngine.Diagnostics;
using ResponseEngine.Findings;
using ResponseEngine.Inbox;
using ResponseEngine.Service.Operations;
using ResponseEngine.Service.Processing;

namespace ResponseEngine.Service.Webhook;

/// <summary>
/// POST /v1/findings: one finding or an array of them. In order, and each step ends the request when it fails with
/// nothing stored: content type (415 unless JSON), size (413; the body is read to its end first, so the sender gets the
/// answer, not a reset connection), authentication (401), JSON and the finding schema per record (400 with the JSON
/// pointer, code and reason of every bad field; none of the batch is kept — the sender is told and can fix it), the
/// inbox commit (503). Only when the inbox transaction has committed is 202 returned; a duplicate (source, id) is
/// accepted and stored once. A client that goes away or sends a malformed request is logged at debug, not as a fault.
/// </summary>
public sealed class FindingsEndpoint(IFindingInbox inbox, WebhookAuthenticator auth, ServiceMetrics metrics, InboxSignal signal, ILogger<FindingsEndpoint> log, long maxBody)
{
    public const string Origin = "webhook";

    private static readonly string[] EmptyArray = ["the array is empty: post one finding object or an array of them"];

    public async Task<IResult> HandleAsync(HttpContext context)
    {
        ArgumentNullException.ThrowIfNull(context);
        try
        {
            return await HandleCheckedAsync(context);
        }
        catch (Exception e) when (e is BadHttpRequestException or IOException || (e is OperationCanceledException && context.RequestAborted.IsCancellationRequested))
        {
            log.LogDebug("webhook post from {Remote} ended by the client: {Message}", context.Connection.RemoteIpAddress, e.Message);
            metrics.Received(Origin, "client_error");
            return Results.Json(new { error = "the request could not be read: " + e.Message }, statusCode: e is BadHttpRequestException bad ? bad.StatusCode : StatusCodes.Status400BadRequest);
        }
    }

    /// <summary>True for application/json and application/*+json (any charset parameter).</summary>
    public static bool IsJson(string? contentType)
    {
        if (string.IsNullOrWhiteSpace(contentType)) return false;
        var media = contentType.Split(';')[0].Trim();
        return media.Equals("application/json", StringComparison.OrdinalIgnoreCase)
            || (media.StartsWith("application/", StringComparison.OrdinalIgnoreCase) && media.EndsWith("+json", StringComparison.OrdinalIgnoreCase));
    }

    private async Task<IResult> HandleCheckedAsync(HttpContext context)
    {
        var request = context.Request;
        if (!IsJson(request.ContentType))
        {
            metrics.Received(Origin, "unsupported_media_type");
            log.LogDebug("webhook post from {Remote} refused: content type {ContentType}", context.Connection.RemoteIpAddress, Printable.Escape(request.ContentType));
            await Drain(request.Body, context.RequestAborted);
            return Results.Json(new { error = $"the body must be JSON (Content-Type: application/json), not '{Printable.Escape(request.ContentType) ?? "none"}'" },
                statusCode: StatusCodes.Status415UnsupportedMediaType);
        }

        var body = await ReadAsync(request.Body, maxBody, context.RequestAborted);
        if (body is null)
        {
            metrics.Received(Origin, "too_large");
            return TooLarge();
        }

        var refusal = auth.Check(request.Headers.Authorization.FirstOrDefault(), request.Headers[WebhookAuthenticator.SignatureHeader].FirstOrDefault(),
            request.Headers[WebhookAuthenticator.TimestampHeader].FirstOrDefault(), body);
        if (refusal is not null)
        {
            log.LogWarning("webhook post from {Remote} refused: {Reason}", context.Connection.RemoteIpAddress, refusal);
            metrics.Received(Origin, "unauthorized");
            context.Response.Headers.WWWAuthenticate = "Bearer, HMAC-SHA256";
            return Results.Json(new { error = refusal }, statusCode: StatusCodes.Status401Unauthorized);
        }

        var (entries, errors) = Validate(body);
        if (errors.Count > 0)
        {
            metrics.Received(Origin, "rejected", Math.Max(1, errors.Count));
            log.LogWarning("webhook post refused: {Count} bad records; nothing was stored", errors.Count);
            return Results.Json(new { accepted = 0, error = "nothing was stored: fix these records and post again", records = errors }, statusCode: StatusCodes.Status400BadRequest);
        }

        IReadOnlyList<bool> added;
        try
        {
            added = await inbox.AddAsync(entries, context.RequestAborted);
        }
        catch (AuditWriteException e)
        {
            log.LogError("webhook post not accepted: the inbox cannot be written: {Message}", e.Message);
            metrics.Received(Origin, "unavailable", entries.Count);
            return Results.Json(new { error = "the inbox cannot be written; nothing was accepted; retry later" }, statusCode: StatusCodes.Status503ServiceUnavailable);
        }

        var fresh = added.Count(a => a);
        metrics.Received(Origin, "accepted", fresh);
        metrics.Received(Origin, "duplicate", added.Count - fresh);
        if (fresh > 0) signal.Wake();
        return Results.Json(new { accepted = entries.Count, duplicates = added.Count - fresh, ids = entries.Select(e => new { source = e.Source, id = e.FindingId }) },
            statusCode: StatusCodes.Status202Accepted);
    }

    /// <summary>Every record checked as the file readers check findings; the entries to store, or the reason per bad record.</summary>
    public static (List<InboxEntry> Entries, List<object> Errors) Validate(byte[] body)
    {
        var entries = new List<InboxEntry>();
        var errors = new List<object>();
        JsonDocument document;
        try
        {
            document = JsonDocument.Parse(body);
        }
        catch (JsonException e)
        {
            errors.Add(new { index = (int?)null, errors = new[] { $"not valid JSON: {e.Message}" }, fields = new[] { new { pointer = "", code = DiagnosticCodes.FindingMalformed, message = e.Message } } });
            return (entries, errors);
        }

        using (document)
        {
            var root = document.RootElement;
            var records = root.ValueKind == JsonValueKind.Array ? [.. root.EnumerateArray()] : new List<JsonElement> { root };
            if (records.Count == 0) errors.Add(new { index = (int?)null, errors = EmptyArray });
            var array = root.ValueKind == JsonValueKind.Array;
            for (var i = 0; i < records.Count; i++)
            {
                var bag = new DiagnosticBag();
                var prefix = array ? "/" + i.ToString(System.Globalization.CultureInfo.InvariantCulture) : "";
                var finding = FindingReader.Parse(records[i], pointer => SourceLocation.FileOnly(prefix + pointer), bag);
                if (finding is null)
                {
                    var bad = bag.Items.Where(d => d.IsError).ToList();
                    errors.Add(new
                    {
                        index = (int?)i,
                        id = IdOf(records[i]),
                        errors = bad.Select(d => d.Hint is null ? d.Message : $"{d.Message}; {d.Hint}").ToArray(),
                        fields = bad.Select(d => new { pointer = d.Location.File, code = d.Code, message = d.Message }).ToArray(),
                    });
                    continue;
                }

                entries.Add(new InboxEntry(finding.Source, finding.Id, Canonical(records[i]), Origin));
            }
        }

        return (entries, errors);
    }

    private static string? IdOf(JsonElement record) =>
        record.ValueKind == JsonValueKind.Object && record.TryGetProperty("id", out var id) && id.ValueKind == JsonValueKind.String && JsonText.FirstUnreadable(id) is null ? id.GetString() : null;

    private static string Canonical(JsonElement record) => JsonNode.Parse(record.GetRawText())!.ToJsonString();

    private static IResult TooLarge() =>
        Results.Json(new { error = "the body is larger than the limit (serve.max_body); split the batch" }, statusCode: StatusCodes.Status413PayloadTooLarge);

    /// <summary>How much of an oversized body is read and dropped before answering 413 (beyond it Kestrel closes the connection).</summary>
    public static long DrainLimit(long maxBody) => Math.Max(maxBody * 64, 64L * 1024 * 1024);

    private static async Task Drain(Stream stream, CancellationToken cancellationToken)
    {
        var chunk = new byte[16 * 1024];
        while (await stream.ReadAsync(chunk, cancellationToken) > 0)
        {
        }
    }

    /// <summary>The body, or null when it is larger than <paramref name="max"/>; an oversized body is read to its end and dropped, so the sender gets the 413 instead of a reset connection (up to <see cref="DrainLimit"/>, Kestrel's limit).</summary>
    private static async Task<byte[]?> ReadAsync(Stream stream, long max, CancellationToken cancellationToken)
    {
        using var buffer = new MemoryStream();
        var chunk = new byte[16 * 1024];
        var oversized = false;
        int read;
        while ((read = await stream.ReadAsync(chunk, cancellationToken)) > 0)
        {
            if (oversized || buffer.Length + read > max)
            {
                oversized = true;
                continue;
            }

            buffer.Write(chunk, 0, read);
        }

        return oversized ? null : buffer.ToArray();
    }
}
