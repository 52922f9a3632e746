using Azure.Core;

namespace ResponseEngine.TestKit.Graph;

/// <summary>
/// A credential double for the Graph SDK against <see cref="GraphEmulator"/>: hands out a fixed bearer token without any
/// identity endpoint, and counts how often it was asked.
/// </summary>
public sealed class StaticTokenCredential(string token = GraphEmulator.Token) : TokenCredential
{
    private int _requests;

    public int Requests => Volatile.Read(ref _requests);

    public override AccessToken GetToken(TokenRequestContext requestContext, CancellationToken cancellationToken)
    {
        Interlocked.Increment(ref _requests);
        return new AccessToken(token, DateTimeOffset.MaxValue);
    }

    public override ValueTask<AccessToken> GetTokenAsync(TokenRequestContext requestContext, CancellationToken cancellationToken) =>
        ValueTask.FromResult(GetToken(requestContext, cancellationToken));
}
