using ResponseEngine.Findings;
using ResponseEngine.Identities;

namespace ResponseEngine.Execution;

/// <summary>Whether one connector answered a sign-in and a read within its deadline, and if not, why.</summary>
public sealed record ConnectorCheckResult(Provider Provider, string Kind, bool Reachable, string? Problem, TimeSpan Took);

/// <summary>
/// Checks that a connector answers before anything is decided (`run`, `serve`, `respond doctor`, /readyz): one identity
/// lookup, which signs in and reads. Any answer counts, "no such account" included; a fault or no answer within the
/// deadline is a problem stated in one line, never an exception.
/// </summary>
public static class ConnectorCheck
{
    /// <summary>A name no directory holds, so the lookup reads without finding anyone.</summary>
    public const string ProbeName = "respond-connector-check";

    public static async Task<ConnectorCheckResult> CheckAsync(Provider provider, IConnector connector, TimeSpan deadline, TimeProvider time,
        CancellationToken cancellationToken)
    {
        var kind = connector.GetType().Name;
        var started = time.GetTimestamp();
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timeout.CancelAfter(deadline);
        try
        {
            await connector.ResolveAsync(new Subject(provider, null, ProbeName), timeout.Token);
            return new ConnectorCheckResult(provider, kind, true, null, time.GetElapsedTime(started));
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            return new ConnectorCheckResult(provider, kind, false, $"no answer within {deadline.TotalSeconds:0.#} s", time.GetElapsedTime(started));
        }
        catch (Exception e) when (e is ConnectorException or HttpRequestException or IOException or UnauthorizedAccessException or InvalidOperationException)
        {
            return new ConnectorCheckResult(provider, kind, false, OneLine(e.Message), time.GetElapsedTime(started));
        }
    }

    /// <summary>Checks every connector at once, so the slowest deadline bounds the whole check.</summary>
    public static async Task<IReadOnlyList<ConnectorCheckResult>> CheckAllAsync(IEnumerable<KeyValuePair<Provider, IConnector>> connectors, TimeSpan deadline,
        TimeProvider time, CancellationToken cancellationToken) =>
        await Task.WhenAll(connectors.Select(c => CheckAsync(c.Key, c.Value, deadline, time, cancellationToken)));

    private static string OneLine(string message) => string.Join(' ', message.Split(['\r', '\n'], StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries));
}
