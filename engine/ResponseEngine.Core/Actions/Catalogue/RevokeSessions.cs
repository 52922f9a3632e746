using System.Collections.Immutable;
using ResponseEngine.Findings;
using ResponseEngine.Identities;

namespace ResponseEngine.Actions.Catalogue;

/// <summary>Ends the account's sign-in sessions and refresh tokens, so a stolen session stops working.</summary>
public sealed class RevokeSessions : ActionDefinition
{
    public override string Name => "revoke_sessions";

    public override string Summary => "Revoke sign-in sessions and refresh tokens (Entra: revokeSignInSessions; Okta: clear sessions and OAuth tokens)";

    public override ImmutableArray<Provider> Providers => [Provider.Entra, Provider.Okta];

    public override bool Destructive => true;

    public override Reversal Reversal => Reversal.Irreversible("revoked sessions are gone; the user signs in again");

    public override ImmutableDictionary<Provider, ImmutableArray<string>> Permissions { get; } = Needs(
        entra: EntraPermissions.With("User.RevokeSessions.All", "AuditLog.Read.All (last sign-in: whether sessions are already revoked)"),
        okta: ["okta.users.manage", "okta.users.read", "okta.logs.read (to tell whether sessions were already cleared)"]);

    public override ImmutableArray<string> Preconditions => ["not for guests: their home tenant holds the session, revoking here does nothing"];

    public override PreconditionResult CheckPreconditions(Identity identity, ActionParameters parameters, PrivilegedPolicy policy) =>
        identity.Guest
            ? PreconditionResult.Refuse(parameters, "guest account: its sessions live in its home tenant, revoking here has no effect")
            : PreconditionResult.Allow(parameters);
}
