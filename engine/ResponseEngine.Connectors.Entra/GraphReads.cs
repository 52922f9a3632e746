using System.Net;
using Microsoft.Graph;
using Microsoft.Graph.Models;
using Microsoft.Kiota.Abstractions;
using Microsoft.Kiota.Abstractions.Serialization;

namespace ResponseEngine.Connectors.Entra;

/// <summary>
/// Bulk reads through <c>$batch</c> (at most 20 requests a batch, split by the SDK) with the per-item throttling the SDK's
/// retry handler does not see: items answered 429/503/504 inside a 200 batch are sent again, in a new batch, after the
/// longest Retry-After among them, on the injected clock. Paging follows <c>@odata.nextLink</c> with the SDK's PageIterator.
/// </summary>
internal sealed class GraphReads(GraphServiceClient client, TimeProvider time, EntraOptions options)
{
    private long _waitedTicks;

    /// <summary>Time spent waiting out throttled batch items.</summary>
    public TimeSpan Waited => TimeSpan.FromTicks(Interlocked.Read(ref _waitedTicks));

    /// <summary>Items sent again after a per-item 429/503/504.</summary>
    public int ItemRetries { get; private set; }

    /// <summary>Sends the requests as batches; every item ends answered (any status) or is retried until it is.</summary>
    public async Task<BatchResults> BatchAsync(IReadOnlyList<(string Key, RequestInformation Request)> requests, CancellationToken cancellationToken)
    {
        var results = new Dictionary<string, (BatchResponseContentCollection Response, HttpStatusCode Status)>(StringComparer.Ordinal);
        var pending = requests.ToList();
        for (var attempt = 0; pending.Count > 0; attempt++)
        {
            var content = new BatchRequestContentCollection(client);
            foreach (var (key, request) in pending) await content.AddBatchRequestStepAsync(request, key).ConfigureAwait(false);
            var response = await client.Batch.PostAsync(content, cancellationToken).ConfigureAwait(false);
            var statuses = await response.GetResponsesStatusCodesAsync().ConfigureAwait(false);
            var retry = new List<(string, RequestInformation)>();
            var delay = TimeSpan.Zero;
            foreach (var (key, request) in pending)
            {
                if (!statuses.TryGetValue(key, out var status))
                {
                    // Graph answered the batch without this item: send it again.
                    retry.Add((key, request));
                    continue;
                }

                if ((int)status is 429 or 503 or 504 && attempt < options.MaxRetries)
                {
                    using var item = await response.GetResponseByIdAsync(key).ConfigureAwait(false);
                    var wait = GraphRetryHandler.RetryDelay(item?.Headers.RetryAfter, time.GetUtcNow(), options.ThrottleFallback, attempt);
                    if (wait > delay) delay = wait;
                    retry.Add((key, request));
                    continue;
                }

                results[key] = (response, status);
            }

            pending = retry;
            if (pending.Count == 0) break;
            ItemRetries += pending.Count;
            if (delay > TimeSpan.Zero)
            {
                Interlocked.Add(ref _waitedTicks, delay.Ticks);
                await Task.Delay(delay, time, cancellationToken).ConfigureAwait(false);
            }
        }

        return new BatchResults(results);
    }

    /// <summary>Every item of a collection, following nextLink from the first page.</summary>
    public async Task<List<TEntity>> AllAsync<TEntity, TPage>(TPage? first, CancellationToken cancellationToken)
        where TPage : IParsable, IAdditionalDataHolder, new()
    {
        var items = new List<TEntity>();
        if (first is null) return items;
        var iterator = PageIterator<TEntity, TPage>.CreatePageIterator(client, first, item =>
        {
            items.Add(item);
            return true;
        });
        await iterator.IterateAsync(cancellationToken).ConfigureAwait(false);
        return items;
    }
}

/// <summary>The answers of a batched read, by the key each request was given.</summary>
internal sealed class BatchResults(Dictionary<string, (BatchResponseContentCollection Response, HttpStatusCode Status)> results)
{
    public HttpStatusCode Status(string key) => results[key].Status;

    /// <summary>The body as <typeparamref name="T"/>; null for 404; a Graph error for any other failure.</summary>
    public async Task<T?> GetAsync<T>(string key, string operation)
        where T : IParsable, new()
    {
        var (response, status) = results[key];
        if (status == HttpStatusCode.NotFound) return default;
        if ((int)status is < 200 or > 299)
        {
            using var message = await response.GetResponseByIdAsync(key).ConfigureAwait(false);
            var body = message?.Content is null ? "" : await message.Content.ReadAsStringAsync().ConfigureAwait(false);
            var error = System.Text.Json.Nodes.JsonNode.Parse(body.Length > 0 ? body : "{}")?["error"];
            throw new Execution.ConnectorException(
                $"Graph {(int)status} {error?["code"]}: {error?["message"]} ({operation})", (int)status is 429 or 500 or 502 or 503 or 504);
        }

        return await response.GetResponseByIdAsync<T>(key).ConfigureAwait(false);
    }
}
