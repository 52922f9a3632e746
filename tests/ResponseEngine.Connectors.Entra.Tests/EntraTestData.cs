using System.Collections.Immutable;
using ResponseEngine.Actions;
using ResponseEngine.Execution;
using ResponseEngine.Findings;
using ResponseEngine.TestKit.Graph;

namespace ResponseEngine.Connectors.Entra.Tests;

internal static class EntraTestData
{
    public static CancellationToken Cancel => TestContext.Current.CancellationToken;

    public static ActionRequest Request(string action, GraphUser user, ActionParameters? parameters = null) =>
        new(ActionCatalogue.Default.Find(action)!, parameters ?? ActionParameters.Empty, new TargetRef(Provider.Entra, user.Id, user.UserPrincipalName));

    public static ActionParameters Groups(params string[] names) => ActionParameters.Empty.With("groups", names.ToImmutableArray());

    public static ActionParameters Roles(params string[] names) => ActionParameters.Empty.With("roles", names.ToImmutableArray());

    /// <summary>Read, apply when not already done, verify — what the executor does with one decision.</summary>
    public static async Task<bool> ActAsync(IConnector connector, ActionRequest request)
    {
        var state = await connector.ReadAsync(request, Cancel);
        if (!state.AlreadyDone) await connector.ApplyAsync(request, Cancel);
        return await connector.VerifyAsync(request, Cancel);
    }
}
