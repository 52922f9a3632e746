using System.Text;
using System.Text.Json;
using Microsoft.AspNetCore.Http;

namespace ResponseEngine.Service.Console.Pages;

/// <summary>
/// The Activity page's current filter as a download, CSV or JSON, streamed a page of rows at a time through the same
/// keyset paging as the page (never every row in memory).
/// </summary>
internal static class ActivityExport
{
    private const int Chunk = ConsoleQueries.MaxPage;

    private static readonly string[] Columns =
        ["sequence", "recorded_at", "status", "dry_run", "run_id", "actor", "rule_id", "finding_source", "finding_id", "provider", "identity_id", "identity_name",
         "action", "parameters", "destructive", "verdict", "guard", "reason", "error", "intent_sequence"];

    private static readonly JsonSerializerOptions Json = new() { PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower };

    public static async Task HandleAsync(HttpContext http, IConsoleQueries queries, ServeSetup setup, CancellationToken ct)
    {
        var format = http.Request.Query["format"].ToString();
        var (search, errors) = ActivityFilter.Parse(http.Request.Query, setup.Time.GetUtcNow());
        if (format is not ("csv" or "json")) errors.Add($"format: '{format}' is not csv or json");
        if (errors.Count > 0)
        {
            await Problems.Write(http, StatusCodes.Status400BadRequest, "bad filter", string.Join("; ", errors));
            return;
        }

        var response = http.Response;
        ConsolePage.Secure(response);
        response.ContentType = format == "csv" ? "text/csv; charset=utf-8" : "application/json; charset=utf-8";
        response.Headers.ContentDisposition = $"attachment; filename=\"respond-activity.{format}\"";
        await using var writer = new StreamWriter(response.Body, new UTF8Encoding(false), 64 * 1024);
        await writer.WriteAsync(format == "csv" ? string.Join(',', Columns) + "\r\n" : "[");
        long? before = null;
        var first = true;
        do
        {
            var page = await queries.SearchAuditAsync(search, before, Chunk, ct);
            foreach (var row in page.Rows)
            {
                if (format == "csv")
                {
                    await writer.WriteAsync(Csv(row));
                }
                else
                {
                    await writer.WriteAsync((first ? "\n" : ",\n") + JsonSerializer.Serialize(row, Json));
                    first = false;
                }
            }

            await writer.FlushAsync(ct);
            before = page.Next;
        }
        while (before is not null);

        if (format == "json") await writer.WriteAsync("\n]\n");
    }

    private static string Csv(AuditRowView r)
    {
        string?[] fields =
        [
            HtmlText.N(r.Sequence), r.RecordedAt.UtcDateTime.ToString("O", System.Globalization.CultureInfo.InvariantCulture), r.Status, r.DryRun ? "true" : "false", r.RunId, r.Actor,
            r.RuleId, r.FindingSource, r.FindingId, r.Provider, r.IdentityId, r.IdentityName, r.Action, r.Parameters?.GetRawText(), r.Destructive ? "true" : "false",
            r.Verdict, r.Guard, r.Reason, r.Error, r.IntentSequence is { } i ? HtmlText.N(i) : null,
        ];
        return string.Join(',', fields.Select(HtmlText.Csv)) + "\r\n";
    }
}
