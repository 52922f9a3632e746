using System.Collections.Frozen;
using System.Collections.Immutable;
using System.Text.Json.Nodes;
using Azure.Core;
using Microsoft.Graph;
using Microsoft.Graph.Models;
using ResponseEngine.Actions.Catalogue;
using ResponseEngine.Execution;
using ResponseEngine.Findings;
using ResponseEngine.Identities;
using GraphGroup = Microsoft.Graph.Models.Group;
using GraphUser = Microsoft.Graph.Models.User;
using Identity = ResponseEngine.Identities.Identity;

namespace ResponseEngine.Connectors.Entra;

/// <summary>
/// Entra ID through the Microsoft Graph SDK: lookups by object id or UPN (OData strings escaped) with direct and
/// transitive groups, active role assignments, guest and enabled flags read in one <c>$batch</c>; every catalogue action
/// read before it is applied (already there is a no-op) and read back after; undo from the recorded prior state; the live
/// counts lockout protection needs. Refuses on its own what the precondition guard refuses (guests' sessions, dynamic and
/// synced groups, phishing-resistant MFA for non-admins), so a refusal never depends on a guard alone.
/// </summary>
public sealed partial class EntraConnector : IConnector, IGrantedPermissions, IDisposable
{
    /// <summary>The properties every lookup selects (Graph returns accountEnabled, userType and the rest only on $select).</summary>
    internal static readonly string[] UserProperties =
        ["id", "userPrincipalName", "mail", "mailNickname", "displayName", "accountEnabled", "userType", "onPremisesSyncEnabled", "passwordProfile", "signInSessionsValidFromDateTime",
         "onPremisesSecurityIdentifier", "onPremisesImmutableId", "employeeId"];

    private static readonly string[] GroupProperties = ["id", "displayName", "groupTypes", "onPremisesSyncEnabled", "isAssignableToRole"];

    private readonly GraphTransport _transport;
    private readonly GraphReads _reads;
    private readonly EntraOptions _options;
    private readonly PrivilegedPolicy _policy;
    private readonly PolicyStateFile _state;
    private readonly TimeProvider _time;

    private EntraConnector(GraphTransport transport, EntraOptions options, PrivilegedPolicy policy, TimeProvider time, string workingDirectory)
    {
        _transport = transport;
        _options = options;
        _policy = policy;
        _time = time;
        _reads = new GraphReads(transport.Client, time, options);
        _state = new PolicyStateFile(Path.Combine(workingDirectory, options.StateFile));
    }

    public Provider Provider => Provider.Entra;

    /// <summary>Time spent waiting for Retry-After, backoff, batch-item retries and policy-write pacing.</summary>
    public TimeSpan ThrottleWaited => _transport.Retry.Waited + _reads.Waited;

    /// <summary>Time writes waited to keep to <see cref="EntraOptions.WritesPerSecond"/> (not counted in <see cref="ThrottleWaited"/>).</summary>
    public TimeSpan WritesPaced => _transport.Retry.Paced;

    /// <summary>Calls and batch items sent again after throttling or a fault.</summary>
    public int Retries => _transport.Retry.Retries + _reads.ItemRetries;

    /// <summary>Where the managed conditional-access policy ids are kept.</summary>
    public string StateFile => _state.Path;

    private GraphServiceClient Graph => _transport.Client;

    /// <summary>
    /// Builds a connector from validated options. <paramref name="credential"/> defaults to the secret or certificate in the
    /// options; tests pass a credential double and an emulator's base URL. <paramref name="pacer"/> is shared by every
    /// connector of one tenant in the process (one is made when null).
    /// </summary>
    public static EntraConnector Create(EntraOptions options, PrivilegedPolicy policy, TimeProvider time, TokenCredential? credential = null,
        PolicyWritePacer? pacer = null, string? workingDirectory = null, HttpMessageHandler? handler = null)
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(policy);
        ArgumentNullException.ThrowIfNull(time);
        var problems = options.Validate();
        if (problems.Count > 0) throw new ArgumentException(string.Join("; ", problems), nameof(options));
        var transport = GraphTransport.Create(options, credential ?? GraphTransport.Credential(options), time,
            pacer ?? new PolicyWritePacer(time, options.PolicyWriteInterval), handler);
        return new EntraConnector(transport, options, policy, time, workingDirectory ?? Directory.GetCurrentDirectory());
    }

    public void Dispose() => _transport.Dispose();

    /// <summary>An OData string literal: single quotes doubled, the whole in quotes.</summary>
    public static string Literal(string value)
    {
        ArgumentNullException.ThrowIfNull(value);
        return "'" + value.Replace("'", "''", StringComparison.Ordinal) + "'";
    }

    public async Task<IdentityLookup> ResolveAsync(Subject subject, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(subject);
        if (subject.Provider != Provider.Entra) return IdentityLookup.NotFound($"{subject.Provider.Name()} accounts are not in Entra ID");
        try
        {
            GraphUser? user = null;
            if (subject.Id is not null) user = await GetUserAsync(subject.Id, cancellationToken).ConfigureAwait(false);
            if (user is null && subject.Name is not null)
            {
                var name = Literal(subject.Name);
                var page = await Graph.Users.GetAsync(r =>
                {
                    r.QueryParameters.Filter = $"userPrincipalName eq {name} or mail eq {name} or mailNickname eq {name}";
                    r.QueryParameters.Select = UserProperties;
                    r.QueryParameters.Top = 5;
                }, cancellationToken).ConfigureAwait(false);
                var matches = page?.Value ?? [];
                if (matches.Count > 1) return IdentityLookup.NotFound($"{matches.Count} Entra accounts match '{subject.Name}'; refusing to guess");
                user = matches.FirstOrDefault();
            }

            if (user is null)
            {
                var what = subject.Id is not null && subject.Name is not null ? $"id '{subject.Id}' or name '{subject.Name}'"
                    : subject.Id is not null ? $"id '{subject.Id}'" : $"name '{subject.Name}'";
                return IdentityLookup.NotFound($"no Entra account matches {what}");
            }

            return IdentityLookup.Found(await IdentityOfAsync(user, cancellationToken).ConfigureAwait(false));
        }
        catch (Exception e) when (e is not OperationCanceledException || !cancellationToken.IsCancellationRequested)
        {
            return IdentityLookup.NotFound("the Entra lookup failed, so nothing is done: " + GraphErrors.Map(e, "resolve the account").Message);
        }
    }

    public async Task<TargetState> ReadAsync(ActionRequest request, CancellationToken cancellationToken)
    {
        var (kind, user) = await TargetAsync(request, cancellationToken).ConfigureAwait(false);
        return await Guarded(() => ReadStateAsync(kind, user, request, cancellationToken), $"read the state {request.Action.Name} changes").ConfigureAwait(false);
    }

    public async Task ApplyAsync(ActionRequest request, CancellationToken cancellationToken)
    {
        var (kind, user) = await TargetAsync(request, cancellationToken).ConfigureAwait(false);
        // Read again as it acts, for every action: another run or an administrator that got there since the executor's read
        // is reported with the state found (a no-op in the trail), not written again, nor recorded succeeded with a prior
        // state undo would restore (a group membership or role someone else removed, handed back).
        var now = await Guarded(() => ReadStateAsync(kind, user, request, cancellationToken), $"read the state {request.Action.Name} changes").ConfigureAwait(false);
        if (now.AlreadyDone)
        {
            throw new TargetChangedException(now, $"already {now.Description} when the change was to be made (changed since it was read); nothing done");
        }

        await Guarded(async () =>
        {
            await ApplyCoreAsync(kind, user, request, cancellationToken).ConfigureAwait(false);
            return true;
        }, $"{request.Action.Name} {user.UserPrincipalName}").ConfigureAwait(false);
    }

    public async Task<bool> VerifyAsync(ActionRequest request, CancellationToken cancellationToken) =>
        (await ReadAsync(request, cancellationToken).ConfigureAwait(false)).AlreadyDone;

    public async Task RestoreAsync(ActionRequest request, string priorState, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(request);
        var kind = KindOf(request);
        if (!request.Action.Reversal.Reversible)
        {
            throw new ConnectorException($"{request.Action.Name} cannot be undone in Entra ID: {request.Action.Reversal.How}");
        }

        var prior = ParsePrior(priorState);
        var (_, user) = await TargetAsync(request, cancellationToken).ConfigureAwait(false);
        await Guarded(async () =>
        {
            await RestoreCoreAsync(kind, user, request, prior, cancellationToken).ConfigureAwait(false);
            return true;
        }, $"undo {request.Action.Name} for {user.UserPrincipalName}").ConfigureAwait(false);
    }

    private async Task<Identity> IdentityOfAsync(GraphUser user, CancellationToken cancellationToken)
    {
        var id = user.Id!;
        var requests = new List<(string, Microsoft.Kiota.Abstractions.RequestInformation)>
        {
            ("direct", Graph.Users[id].MemberOf.GraphGroup.ToGetRequestInformation(r =>
            {
                r.QueryParameters.Select = GroupProperties;
                r.QueryParameters.Top = _options.PageSize;
            })),
            ("transitive", Graph.Users[id].TransitiveMemberOf.GraphGroup.ToGetRequestInformation(r =>
            {
                r.QueryParameters.Select = ["id", "displayName", "isAssignableToRole"];
                r.QueryParameters.Top = _options.PageSize;
            })),
            ("risk", Graph.IdentityProtection.RiskyUsers[id].ToGetRequestInformation()),
        };
        requests.AddRange(RoleReads("user", $"principalId eq {Literal(id)}"));
        var results = await _reads.BatchAsync(requests, cancellationToken).ConfigureAwait(false);
        var direct = await _reads.AllAsync<GraphGroup, GroupCollectionResponse>(
            await results.GetAsync<GroupCollectionResponse>("direct", "list direct groups").ConfigureAwait(false), cancellationToken).ConfigureAwait(false);
        var transitive = await _reads.AllAsync<GraphGroup, GroupCollectionResponse>(
            await results.GetAsync<GroupCollectionResponse>("transitive", "list transitive groups").ConfigureAwait(false), cancellationToken).ConfigureAwait(false);
        var (own, _) = await GrantsAsync(results, "user", cancellationToken).ConfigureAwait(false);
        var risk = await results.GetAsync<RiskyUser>("risk", "read the risk state").ConfigureAwait(false);
        var policies = await CoveringPoliciesAsync(id, cancellationToken).ConfigureAwait(false);

        // Roles held through role-assignable groups: only those can hold directory roles, so only they are read.
        var assignable = transitive.Concat(direct).Where(g => g.IsAssignableToRole == true && g.Id is not null).DistinctBy(g => g.Id, StringComparer.OrdinalIgnoreCase).ToList();
        var viaGroups = new Dictionary<string, List<RoleGrant>>(StringComparer.OrdinalIgnoreCase);
        if (assignable.Count > 0)
        {
            var groupResults = await _reads.BatchAsync([.. assignable.SelectMany((g, i) => RoleReads("g" + i, $"principalId eq {Literal(g.Id!)}"))], cancellationToken).ConfigureAwait(false);
            for (var i = 0; i < assignable.Count; i++) viaGroups[assignable[i].Id!] = (await GrantsAsync(groupResults, "g" + i, cancellationToken).ConfigureAwait(false)).Grants;
        }

        var groups = direct.Select(g => new Identities.Group(Provider.Entra, g.Id!, g.DisplayName ?? g.Id!)
        {
            Dynamic = g.GroupTypes?.Contains("DynamicMembership", StringComparer.OrdinalIgnoreCase) == true,
            Synced = g.OnPremisesSyncEnabled == true,
            RoleAssignable = g.IsAssignableToRole == true,
            Roles = viaGroups.TryGetValue(g.Id!, out var held) ? Active(held) : [],
            Privileged = _policy.IsPrivilegedGroup(Provider.Entra, g.DisplayName ?? ""),
        }).ToImmutableArray();
        var transitiveNames = transitive.Select(g => g.DisplayName).OfType<string>().Concat(groups.Select(g => g.Name))
            .ToFrozenSet(StringComparer.OrdinalIgnoreCase);
        var directRoles = Active(own);
        var all = own.Concat(viaGroups.Values.SelectMany(g => g)).ToList();
        var roles = Active(all);
        return new Identity(Provider.Entra, id, user.UserPrincipalName ?? id)
        {
            Upn = user.UserPrincipalName,
            Email = user.Mail,
            OnPremisesSid = user.OnPremisesSecurityIdentifier,
            OnPremisesImmutableId = user.OnPremisesImmutableId,
            EmployeeId = user.EmployeeId,
            DisplayName = user.DisplayName ?? user.UserPrincipalName ?? id,
            Enabled = user.AccountEnabled == true,
            Guest = string.Equals(user.UserType, "Guest", StringComparison.OrdinalIgnoreCase),
            Groups = groups,
            TransitiveGroups = transitiveNames,
            Roles = roles,
            RoleSet = roles.ToFrozenSet(StringComparer.OrdinalIgnoreCase),
            DirectRoles = directRoles,
            EligibleRoles = EligibleOnly(all),
            Privileged = _policy.IsPrivileged(Provider.Entra, transitiveNames, roles),
            GlobalAdmin = _policy.IsGlobalAdminLevel(Provider.Entra, roles),
            PasswordMustChange = user.PasswordProfile?.ForceChangePasswordNextSignIn == true,
            SessionsRevokedAt = user.SignInSessionsValidFromDateTime,
            RiskState = RiskStateOf(risk),
            MfaPolicies = policies,
        };
    }

    private async Task<GraphUser?> GetUserAsync(string idOrUpn, CancellationToken cancellationToken)
    {
        try
        {
            return await Graph.Users[idOrUpn].GetAsync(r => r.QueryParameters.Select = UserProperties, cancellationToken).ConfigureAwait(false);
        }
        catch (Exception e) when (GraphErrors.IsNotFound(e))
        {
            return null;
        }
    }

    private async Task<(EntraAction Kind, GraphUser User)> TargetAsync(ActionRequest request, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(request);
        var kind = KindOf(request);
        GraphUser? user;
        try
        {
            user = await GetUserAsync(request.Target.Id, cancellationToken).ConfigureAwait(false);
        }
        catch (Exception e) when (e is not OperationCanceledException || !cancellationToken.IsCancellationRequested)
        {
            throw GraphErrors.Map(e, $"read user {request.Target.Id}");
        }

        return (kind, user ?? throw new ConnectorException($"no Entra user with id '{request.Target.Id}' ({request.Target.Name}); nothing done"));
    }

    private static EntraAction KindOf(ActionRequest request)
    {
        if (request.Target.Provider != Provider.Entra)
        {
            throw new ConnectorException($"the Entra connector cannot act on a {request.Target.Provider.Name()} account ({request.Target.Name})");
        }

        return request.Action.Name switch
        {
            "disable_user" => EntraAction.Disable,
            "enable_user" => EntraAction.Enable,
            "reset_password" => EntraAction.ResetPassword,
            "revoke_sessions" => EntraAction.RevokeSessions,
            "mark_compromised" => EntraAction.MarkCompromised,
            "enforce_mfa" => EntraAction.EnforceMfa,
            "enforce_phishing_resistant_mfa" => EntraAction.EnforcePhishingResistantMfa,
            "remove_role_assignment" => EntraAction.RemoveRoleAssignment,
            "revoke_group" => EntraAction.RevokeGroup,
            _ => throw new ConnectorException($"{request.Action.Name} is not an Entra ID action (Entra supports {string.Join(", ", Enum.GetNames<EntraAction>().Select(Snake))})"),
        };
    }

    private static string Snake(string name) => string.Concat(name.Select((c, i) => char.IsUpper(c) && i > 0 ? "_" + char.ToLowerInvariant(c) : char.ToLowerInvariant(c).ToString()));

    private static async Task<T> Guarded<T>(Func<Task<T>> work, string operation)
    {
        try
        {
            return await work().ConfigureAwait(false);
        }
        catch (Exception e) when (e is not OperationCanceledException and not ConnectorException)
        {
            throw GraphErrors.Map(e, operation);
        }
    }

    private static JsonObject ParsePrior(string priorState)
    {
        try
        {
            return JsonNode.Parse(priorState) as JsonObject ?? throw new ConnectorException("the recorded prior state is not a JSON object");
        }
        catch (System.Text.Json.JsonException e)
        {
            throw new ConnectorException($"the recorded prior state is not JSON: {e.Message}", e);
        }
    }

    private static string RiskStateOf(RiskyUser? risk) => risk?.RiskState switch
    {
        null or RiskState.None => RiskStates.None,
        RiskState.AtRisk => RiskStates.AtRisk,
        RiskState.ConfirmedSafe => RiskStates.ConfirmedSafe,
        RiskState.Remediated => RiskStates.Remediated,
        RiskState.Dismissed => RiskStates.Dismissed,
        RiskState.ConfirmedCompromised => RiskStates.ConfirmedCompromised,
        _ => RiskStates.None,
    };

    private static string PolicyNameOf(ActionRequest request) =>
        request.Parameters.String("policy_name")
        ?? (request.Action.Name == "enforce_mfa" ? EnforceMfa.DefaultPolicyName : EnforcePhishingResistantMfa.DefaultPolicyName);

    private enum EntraAction
    {
        Disable,
        Enable,
        ResetPassword,
        RevokeSessions,
        MarkCompromised,
        EnforceMfa,
        EnforcePhishingResistantMfa,
        RemoveRoleAssignment,
        RevokeGroup,
    }
}
