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
/// nothing stored: size (413), authentication (401), JSON and the finding schema per record (400 with a reason per bad
/// record; none of the batch is kept), the inbox commit (503). Only when the inbox transaction has committed is 202
/// returned; a duplicate (source, id) is accepted and stored once.
/// </summary>
public sealed class FindingsEndpoint(IFindingInbox inbox, WebhookAuthenticator auth, ServiceMetrics metrics, InboxSignal signal, ILogger<FindingsEndpoint> log, long maxBody)
{
    public const string Origin = "webhook";

    private static readonly string[] EmptyArray = ["the array is empty: post one finding object or an array of them"];

    public async Task<IResult> HandleAsync(HttpContext context)
    {
        ArgumentNullException.ThrowIfNull(context);
        var request = context.Request;
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
            errors.Add(new { index = (int?)null, errors = new[] { $"not valid JSON: {e.Message}" } });
            return (entries, errors);
        }

        using (document)
        {
            var root = document.RootElement;
            var records = root.ValueKind == JsonValueKind.Array ? [.. root.EnumerateArray()] : new List<JsonElement> { root };
            if (records.Count == 0) errors.Add(new { index = (int?)null, errors = EmptyArray });
            for (var i = 0; i < records.Count; i++)
            {
                var bag = new DiagnosticBag();
                var finding = FindingReader.Parse(records[i], SourceLocation.FileOnly($"record {i}"), bag);
                if (finding is null)
                {
                    errors.Add(new { index = (int?)i, id = IdOf(records[i]), errors = bag.Items.Where(d => d.IsError).Select(d => d.Hint is null ? d.Message : $"{d.Message}; {d.Hint}").ToArray() });
                    continue;
                }

                entries.Add(new InboxEntry(finding.Source, finding.Id, Canonical(records[i]), Origin));
            }
        }

        return (entries, errors);
    }

    private static string? IdOf(JsonElement record) =>
        record.ValueKind == JsonValueKind.Object && record.TryGetProperty("id", out var id) && id.ValueKind == JsonValueKind.String ? id.GetString() : null;

    private static string Canonical(JsonElement record) => JsonNode.Parse(record.GetRawText())!.ToJsonString();

    private static IResult TooLarge() =>
        Results.Json(new { error = "the body is larger than the limit (serve.max_body); split the batch" }, statusCode: StatusCodes.Status413PayloadTooLarge);

    /// <summary>The body, or null when it is larger than <paramref name="max"/>; an oversized body is read to its end and dropped, so the sender gets the 413 instead of a reset connection (Kestrel cuts off at four times the limit).</summary>
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
