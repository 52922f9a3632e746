using System.Collections.Immutable;
using ResponseEngine.Actions;
using ResponseEngine.Execution;
using ResponseEngine.Findings;

namespace ResponseEngine.Connectors.Okta.Tests;

internal static class OktaTestData
{
    public static CancellationToken Cancel => TestContext.Current.CancellationToken;

    public static ActionRequest Request(string action, string userId, ActionParameters? parameters = null) =>
        new(ActionCatalogue.Default.Find(action)!, parameters ?? ActionParameters.Empty, new TargetRef(Provider.Okta, userId, userId));

    public static ActionParameters Groups(params string[] names) => ActionParameters.Empty.With("groups", names.ToImmutableArray());
}
