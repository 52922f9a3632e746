using System.Collections.Frozen;
using System.Collections.Immutable;
using System.Text.Json;
using System.Text.Json.Nodes;
using ResponseEngine.Actions;
using ResponseEngine.Actions.Catalogue;
using ResponseEngine.Execution;
using ResponseEngine.Findings;
using ResponseEngine.Identities;

namespace ResponseEngine.Connectors.Local;

/// <summary>
/// How the local directory carries out one catalogue action, modelled on what the real directory does: the desired
/// state (for no-ops and verification), the prior state undo needs, the change, and its reversal.
/// </summary>
internal abstract class LocalAction
{
    public static FrozenDictionary<string, LocalAction> All { get; } = new LocalAction[]
    {
        new DisableUserAction(), new EnableUserAction(), new ResetPasswordAction(), new RevokeSessionsAction(), new RevokeGroupAction(),
        new RemoveRoleAssignmentAction(), new EnforceMfaAction("enforce_mfa"), new EnforceMfaAction("enforce_phishing_resistant_mfa"),
        new MarkCompromisedAction(), new DeactivateUserAction(),
    }.ToFrozenDictionary(a => a.Name, StringComparer.Ordinal);

    public abstract string Name { get; }

    /// <summary>Whether the account is already in the state the action wants.</summary>
    public abstract bool IsDone(Identity user, ActionRequest request);

    /// <summary>Exactly what undo needs, read before the change.</summary>
    public abstract JsonObject Prior(Identity user, ActionRequest request);

    public abstract string Describe(Identity user, ActionRequest request);

    /// <summary>
    /// Why the directory would refuse the change from the account's present state (Okta lifecycle rules), or null: the
    /// same rule the action's precondition applies, checked again at the moment of acting.
    /// </summary>
    public virtual string? Refusal(Identity user, ActionRequest request) => null;

    /// <summary>Changes the entry; called only when the account is not yet in the desired state.</summary>
    public abstract void Apply(LocalUser user, ActionRequest request, DateTimeOffset now, Func<Provider, string, Group?> findGroup);

    public virtual void Restore(LocalUser user, ActionRequest request, JsonElement prior) =>
        throw new ConnectorException($"{Name} cannot be undone: {request.Action.Reversal.How}");

    protected static string? StringParameter(ActionRequest request, string name) =>
        request.Parameters.String(name) ?? Spec(request, name)?.Default as string;

    protected static bool BoolParameter(ActionRequest request, string name) =>
        request.Parameters.Bool(name, Spec(request, name)?.Default as bool? ?? false);

    /// <summary>Okta refuses a lifecycle operation from the wrong status with E0000001.</summary>
    protected static ConnectorException OktaWrongStatus(string operation, string status, string needs) =>
        new($"Okta E0000001: Api validation failed: cannot {operation} a user whose status is {status} ({operation} needs {needs})");

    /// <summary>Moves an Okta account back along the lifecycle operations Okta offers (suspend, unsuspend).</summary>
    protected static void MoveOkta(LocalUser user, string target)
    {
        var current = user.OktaStatus;
        if (current == target) return;
        if (current == OktaStatuses.Active && target == OktaStatuses.Suspended) user.SetOktaStatus(OktaStatuses.Suspended);
        else if (current == OktaStatuses.Suspended && target == OktaStatuses.Active) user.SetOktaStatus(OktaStatuses.Active);
        else throw new ConnectorException($"Okta E0000001: Api validation failed: no lifecycle operation takes a user from {current} to {target}");
    }

    protected static string RequiredString(JsonElement prior, string name) =>
        prior.TryGetProperty(name, out var value) && value.ValueKind == JsonValueKind.String
            ? value.GetString()!
            : throw BadPrior(name);

    protected static bool RequiredBool(JsonElement prior, string name) =>
        prior.TryGetProperty(name, out var value) && value.ValueKind is JsonValueKind.True or JsonValueKind.False
            ? value.GetBoolean()
            : throw BadPrior(name);

    protected static ImmutableArray<string> RequiredStrings(JsonElement prior, string name) =>
        prior.TryGetProperty(name, out var value) && value.ValueKind == JsonValueKind.Array && value.EnumerateArray().All(v => v.ValueKind == JsonValueKind.String)
            ? [.. value.EnumerateArray().Select(v => v.GetString()!)]
            : throw BadPrior(name);

    protected static JsonArray Array(IEnumerable<string> items) => new([.. items.Select(item => (JsonNode)JsonValue.Create(item))]);

    private static ConnectorException BadPrior(string name) => new($"the recorded prior state has no valid '{name}'; nothing was restored");

    private static ParameterSpec? Spec(ActionRequest request, string name) =>
        request.Action.Parameters.FirstOrDefault(p => p.Name == name);
}

/// <summary>AD ACCOUNTDISABLE, Entra accountEnabled=false, Okta suspend (only from ACTIVE).</summary>
internal sealed class DisableUserAction : LocalAction
{
    public override string Name => "disable_user";

    public override bool IsDone(Identity user, ActionRequest request) => user.Provider == Provider.Okta
        ? LocalUser.EffectiveOktaStatus(user) is OktaStatuses.Suspended or OktaStatuses.Deprovisioned
        : !user.Enabled;

    public override JsonObject Prior(Identity user, ActionRequest request) => user.Provider == Provider.Okta
        ? new JsonObject { ["okta_status"] = LocalUser.EffectiveOktaStatus(user) }
        : new JsonObject { ["enabled"] = user.Enabled };

    public override string Describe(Identity user, ActionRequest request) => user.Provider == Provider.Okta
        ? $"status {LocalUser.EffectiveOktaStatus(user)}"
        : user.Enabled ? "enabled" : "disabled";

    public override string? Refusal(Identity user, ActionRequest request) =>
        user.Provider == Provider.Okta && LocalUser.EffectiveOktaStatus(user) is var status && status != OktaStatuses.Active
            ? $"the Okta user is {status}; Okta suspends ACTIVE users only"
            : null;

    public override void Apply(LocalUser user, ActionRequest request, DateTimeOffset now, Func<Provider, string, Group?> findGroup)
    {
        if (user.Identity.Provider != Provider.Okta)
        {
            user.SetEnabled(false);
            return;
        }

        if (user.OktaStatus != OktaStatuses.Active) throw OktaWrongStatus("suspend", user.OktaStatus, OktaStatuses.Active);
        user.SetOktaStatus(OktaStatuses.Suspended);
    }

    public override void Restore(LocalUser user, ActionRequest request, JsonElement prior)
    {
        if (user.Identity.Provider == Provider.Okta) MoveOkta(user, RequiredString(prior, "okta_status"));
        else user.SetEnabled(RequiredBool(prior, "enabled"));
    }
}

/// <summary>AD clear ACCOUNTDISABLE, Entra accountEnabled=true, Okta unsuspend (only from SUSPENDED).</summary>
internal sealed class EnableUserAction : LocalAction
{
    public override string Name => "enable_user";

    public override bool IsDone(Identity user, ActionRequest request) => user.Provider == Provider.Okta
        ? OktaStatuses.IsEnabled(LocalUser.EffectiveOktaStatus(user))
        : user.Enabled;

    public override JsonObject Prior(Identity user, ActionRequest request) => new DisableUserAction().Prior(user, request);

    public override string Describe(Identity user, ActionRequest request) => new DisableUserAction().Describe(user, request);

    public override void Apply(LocalUser user, ActionRequest request, DateTimeOffset now, Func<Provider, string, Group?> findGroup)
    {
        if (user.Identity.Provider != Provider.Okta)
        {
            user.SetEnabled(true);
            return;
        }

        if (user.OktaStatus != OktaStatuses.Suspended) throw OktaWrongStatus("unsuspend", user.OktaStatus, OktaStatuses.Suspended);
        user.SetOktaStatus(OktaStatuses.Active);
    }

    public override void Restore(LocalUser user, ActionRequest request, JsonElement prior) => new DisableUserAction().Restore(user, request, prior);
}

/// <summary>
/// AD pwdLastSet=0 (with set_random, a random password too: only the time is recorded, never a password), Entra
/// forceChangePasswordNextSignIn, Okta expire_password (ACTIVE to PASSWORD_EXPIRED).
/// </summary>
internal sealed class ResetPasswordAction : LocalAction
{
    public override string Name => "reset_password";

    public override bool IsDone(Identity user, ActionRequest request) => user.Provider switch
    {
        Provider.Okta => LocalUser.EffectiveOktaStatus(user) == OktaStatuses.PasswordExpired,

        // A random password set while the change is still pending is still the one the engine set.
        Provider.Ad => user.PasswordMustChange && (!BoolParameter(request, "set_random") || user.RandomPasswordSetAt is not null),
        _ => user.PasswordMustChange,
    };

    public override JsonObject Prior(Identity user, ActionRequest request) => user.Provider switch
    {
        Provider.Okta => new JsonObject { ["okta_status"] = LocalUser.EffectiveOktaStatus(user) },
        Provider.Ad => new JsonObject
        {
            ["password_must_change"] = user.PasswordMustChange,
            ["random_password_set_at"] = user.RandomPasswordSetAt is { } at ? SnapshotFormat.Timestamp(at) : null,
        },
        _ => new JsonObject { ["password_must_change"] = user.PasswordMustChange },
    };

    public override string Describe(Identity user, ActionRequest request) => user.Provider == Provider.Okta
        ? $"status {LocalUser.EffectiveOktaStatus(user)}"
        : user.PasswordMustChange ? "must change password at next sign-in" : "password change not required";

    public override string? Refusal(Identity user, ActionRequest request) =>
        user.Provider == Provider.Okta && LocalUser.EffectiveOktaStatus(user) is var status && status != OktaStatuses.Active
            ? $"the Okta user is {status}; Okta expires the password of ACTIVE users only"
            : null;

    public override void Apply(LocalUser user, ActionRequest request, DateTimeOffset now, Func<Provider, string, Group?> findGroup)
    {
        switch (user.Identity.Provider)
        {
            case Provider.Okta:
                if (user.OktaStatus != OktaStatuses.Active) throw OktaWrongStatus("expire the password of", user.OktaStatus, OktaStatuses.Active);
                user.SetOktaStatus(OktaStatuses.PasswordExpired);
                break;
            case Provider.Ad:
                user.SetFlag("password_must_change", true);
                if (BoolParameter(request, "set_random")) user.SetText("random_password_set_at", SnapshotFormat.Timestamp(now));
                break;
            default:
                user.SetFlag("password_must_change", true);
                break;
        }
    }
}

/// <summary>Entra revokeSignInSessions, Okta clear sessions and tokens: sessions issued before now stop working.</summary>
internal sealed class RevokeSessionsAction : LocalAction
{
    public override string Name => "revoke_sessions";

    // No sign-in since the last revocation means no session the revocation did not already end.
    public override bool IsDone(Identity user, ActionRequest request) =>
        user.SessionsRevokedAt is { } revoked && (user.LastSignInAt is null || user.LastSignInAt <= revoked);

    public override JsonObject Prior(Identity user, ActionRequest request) => new()
    {
        ["sessions_revoked_at"] = user.SessionsRevokedAt is { } at ? SnapshotFormat.Timestamp(at) : null,
    };

    public override string Describe(Identity user, ActionRequest request) => IsDone(user, request)
        ? $"no sign-in since sessions were revoked at {SnapshotFormat.Timestamp(user.SessionsRevokedAt!.Value)}"
        : "may hold live sessions";

    public override void Apply(LocalUser user, ActionRequest request, DateTimeOffset now, Func<Provider, string, Group?> findGroup) =>
        user.SetText("sessions_revoked_at", SnapshotFormat.Timestamp(now));
}

/// <summary>Removes the account from the listed groups it is a direct member of; refuses groups the provider will not edit.</summary>
internal sealed class RevokeGroupAction : LocalAction
{
    public override string Name => "revoke_group";

    public override bool IsDone(Identity user, ActionRequest request) => Held(user, request).Count == 0;

    public override JsonObject Prior(Identity user, ActionRequest request) => new() { ["groups"] = Array(Held(user, request)) };

    public override string Describe(Identity user, ActionRequest request) => Held(user, request) is { Count: > 0 } held
        ? "direct member of " + string.Join(", ", held)
        : "direct member of none of " + string.Join(", ", request.Parameters.Strings("groups"));

    public override void Apply(LocalUser user, ActionRequest request, DateTimeOffset now, Func<Provider, string, Group?> findGroup)
    {
        var held = Held(user.Identity, request);
        foreach (var name in held)
        {
            var group = findGroup(user.Identity.Provider, name);
            if (group is null) continue;
            if (group.Dynamic) throw new ConnectorException($"Graph Request_BadRequest: the members of dynamic group '{group.Name}' are set by its membership rule and cannot be removed");
            if (group.Synced) throw new ConnectorException($"Graph Request_BadRequest: '{group.Name}' is synced from on-premises; change its membership in AD");
            if (user.Identity.Provider == Provider.Okta && group.OktaType is not null && group.OktaType != "OKTA_GROUP")
            {
                throw new ConnectorException($"Okta E0000001: Api validation failed: the membership of {group.OktaType} '{group.Name}' is managed by Okta or an app, not through the groups API");
            }
        }

        user.RemoveFromList("groups", held);
    }

    public override void Restore(LocalUser user, ActionRequest request, JsonElement prior) =>
        user.AddToList("groups", RequiredStrings(prior, "groups"));

    private static List<string> Held(Identity user, ActionRequest request) =>
        [.. request.Parameters.Strings("groups").Select(name => user.DirectGroup(name)?.Name).OfType<string>().Distinct(StringComparer.OrdinalIgnoreCase)];
}

/// <summary>Deletes the account's active assignments of the listed Entra directory roles.</summary>
internal sealed class RemoveRoleAssignmentAction : LocalAction
{
    public override string Name => "remove_role_assignment";

    public override bool IsDone(Identity user, ActionRequest request) => Held(user, request).Count == 0;

    public override JsonObject Prior(Identity user, ActionRequest request) => new() { ["roles"] = Array(Held(user, request)) };

    public override string Describe(Identity user, ActionRequest request) => Held(user, request) is { Count: > 0 } held
        ? "holds " + string.Join(", ", held)
        : "holds none of " + string.Join(", ", request.Parameters.Strings("roles"));

    public override void Apply(LocalUser user, ActionRequest request, DateTimeOffset now, Func<Provider, string, Group?> findGroup) =>
        user.RemoveFromList("roles", Held(user.Identity, request));

    public override void Restore(LocalUser user, ActionRequest request, JsonElement prior) =>
        user.AddToList("roles", RequiredStrings(prior, "roles"));

    /// <summary>Roles assigned to the account itself: one also held through a group stays held, and is not this action's to remove.</summary>
    private static List<string> Held(Identity user, ActionRequest request) =>
        [.. user.DirectRoles.Where(role => request.Parameters.Strings("roles").Contains(role, StringComparer.OrdinalIgnoreCase))];
}

/// <summary>Adds the account to the users of an engine-managed conditional-access policy (MFA, or phishing-resistant MFA).</summary>
internal sealed class EnforceMfaAction : LocalAction
{
    public EnforceMfaAction(string name)
    {
        Name = name;
    }

    public override string Name { get; }

    public override bool IsDone(Identity user, ActionRequest request) => Covered(user, request);

    public override JsonObject Prior(Identity user, ActionRequest request) => new()
    {
        ["policy_name"] = Policy(request),
        ["covered"] = Covered(user, request),
    };

    public override string Describe(Identity user, ActionRequest request) =>
        (Covered(user, request) ? "covered by '" : "not covered by '") + Policy(request) + "'";

    public override void Apply(LocalUser user, ActionRequest request, DateTimeOffset now, Func<Provider, string, Group?> findGroup) =>
        user.AddToList("mfa_policies", [Policy(request)]);

    public override void Restore(LocalUser user, ActionRequest request, JsonElement prior)
    {
        var policy = RequiredString(prior, "policy_name");
        if (!RequiredBool(prior, "covered")) user.RemoveFromList("mfa_policies", [policy]);
    }

    private static string Policy(ActionRequest request) =>
        StringParameter(request, "policy_name") ?? (request.Action.Name == "enforce_mfa" ? EnforceMfa.DefaultPolicyName : EnforcePhishingResistantMfa.DefaultPolicyName);

    private static bool Covered(Identity user, ActionRequest request) => user.MfaPolicies.Contains(Policy(request), StringComparer.OrdinalIgnoreCase);
}

/// <summary>Entra ID Protection confirmCompromised; undone by setting the recorded risk state back (Graph: dismiss).</summary>
internal sealed class MarkCompromisedAction : LocalAction
{
    public override string Name => "mark_compromised";

    public override bool IsDone(Identity user, ActionRequest request) => user.RiskState == RiskStates.ConfirmedCompromised;

    public override JsonObject Prior(Identity user, ActionRequest request) => new() { ["risk_state"] = user.RiskState ?? RiskStates.None };

    public override string Describe(Identity user, ActionRequest request) => "risk state " + (user.RiskState ?? RiskStates.None);

    public override void Apply(LocalUser user, ActionRequest request, DateTimeOffset now, Func<Provider, string, Group?> findGroup) =>
        user.SetText("risk_state", RiskStates.ConfirmedCompromised);

    public override void Restore(LocalUser user, ActionRequest request, JsonElement prior)
    {
        var state = RequiredString(prior, "risk_state");
        if (!RiskStates.All.Contains(state, StringComparer.Ordinal)) throw new ConnectorException($"the recorded prior risk state '{state}' is not one Entra knows");
        user.SetText("risk_state", state == RiskStates.None ? null : state);
    }
}

/// <summary>Okta deactivate: any status but DEPROVISIONED becomes DEPROVISIONED.</summary>
internal sealed class DeactivateUserAction : LocalAction
{
    public override string Name => "deactivate_user";

    public override bool IsDone(Identity user, ActionRequest request) => LocalUser.EffectiveOktaStatus(user) == OktaStatuses.Deprovisioned;

    public override JsonObject Prior(Identity user, ActionRequest request) => new() { ["okta_status"] = LocalUser.EffectiveOktaStatus(user) };

    public override string Describe(Identity user, ActionRequest request) => "status " + LocalUser.EffectiveOktaStatus(user);

    public override void Apply(LocalUser user, ActionRequest request, DateTimeOffset now, Func<Provider, string, Group?> findGroup) =>
        user.SetOktaStatus(OktaStatuses.Deprovisioned);
}
