using System.Collections.Immutable;
using ResponseEngine.Execution;
using ResponseEngine.Findings;
using ResponseEngine.Identities;

namespace ResponseEngine.TestKit.Connectors;

/// <summary>
/// The directory a connector contract test starts from, in the snapshot's own terms (users and groups of one provider).
/// A harness turns it into whatever the connector talks to: a snapshot file, a Graph or Okta emulator, a Samba AD.
/// Ids are suggestions: a directory that assigns its own may, the contract resolves accounts by name.
/// </summary>
public sealed record ContractDirectory(Provider Provider, ImmutableArray<Group> Groups, ImmutableArray<UserEntry> Users);

/// <summary>A connector under test, seeded with a <see cref="ContractDirectory"/>, and a way to look at the result.</summary>
public abstract class ConnectorHarness : IAsyncDisposable
{
    public abstract IConnector Connector { get; }

    /// <summary>
    /// Reads an account back from the directory itself, not through the connector under test (the emulator's store,
    /// the snapshot file, an LDAP search); null when there is no such account.
    /// </summary>
    public abstract Task<Identity?> InspectAsync(string userId, CancellationToken cancellationToken);

    public virtual ValueTask DisposeAsync()
    {
        GC.SuppressFinalize(this);
        return ValueTask.CompletedTask;
    }
}

/// <summary>The state every action of the catalogue can change, in a form two reads of the same account compare equal in.</summary>
public sealed record ObservedState(
    bool Enabled,
    string? OktaStatus,
    ImmutableArray<string> Groups,
    ImmutableArray<string> Roles,
    bool PasswordMustChange,
    string RiskState,
    ImmutableArray<string> MfaPolicies,
    DateTimeOffset? SessionsRevokedAt)
{
    public static ObservedState Of(Identity identity)
    {
        ArgumentNullException.ThrowIfNull(identity);
        return new(
            identity.Enabled,
            identity.Provider == Provider.Okta ? identity.OktaStatus ?? (identity.Enabled ? OktaStatuses.Active : OktaStatuses.Suspended) : null,
            [.. identity.Groups.Select(g => g.Name).Order(StringComparer.OrdinalIgnoreCase)],
            [.. identity.Roles.Order(StringComparer.OrdinalIgnoreCase)],
            identity.PasswordMustChange,
            identity.RiskState ?? RiskStates.None,
            [.. identity.MfaPolicies.Order(StringComparer.OrdinalIgnoreCase)],
            identity.SessionsRevokedAt);
    }

    /// <summary>Arrays compare by content, so that records of two reads are equal when the account is.</summary>
    public string Describe() =>
        $"enabled={Enabled} okta={OktaStatus} groups=[{string.Join(", ", Groups)}] roles=[{string.Join(", ", Roles)}] " +
        $"must_change={PasswordMustChange} risk={RiskState} mfa=[{string.Join(", ", MfaPolicies)}] sessions_revoked={SessionsRevokedAt:O}";
}
