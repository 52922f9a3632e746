using System.Collections.Immutable;
using ResponseEngine.Findings;
using ResponseEngine.Identities;
using ResponseEngine.Identities.Privilege;

namespace ResponseEngine.Actions.Catalogue;

/// <summary>Deactivates an Okta user (DEPROVISIONED): stronger than suspend, and reactivation needs a new activation.</summary>
public sealed class DeactivateUser : ActionDefinition
{
    public override string Name => "deactivate_user";

    public override string Summary => "Deactivate the Okta user (status DEPROVISIONED; app assignments are removed by Okta)";

    public override ImmutableArray<Provider> Providers => [Provider.Okta];

    public override bool Destructive => true;

    public override Reversal Reversal => Reversal.Irreversible("reactivation sends a new activation and does not restore app assignments");

    public override ImmutableDictionary<Provider, ImmutableArray<string>> Permissions { get; } = Needs(
        okta: ["okta.users.manage", "okta.users.read", "okta.groups.read and okta.roles.read (identity lookup)"]);

    public override ImmutableArray<string> Preconditions => ["already deactivated: no-op", "lockout protection: never the last active super admins"];

    public override ImmutableArray<GraphEdit> Effect(string targetId, ActionParameters parameters) => [new GraphEdit.Disable(targetId)];

    public override Identity Expected(Identity identity, ActionParameters parameters) =>
        identity with { Enabled = false, OktaStatus = OktaStatuses.Deprovisioned };
}
