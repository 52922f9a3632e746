using System.Collections.Frozen;
using System.DirectoryServices.Protocols;
using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json.Nodes;
using ResponseEngine.Actions;
using ResponseEngine.Connectors.ActiveDirectory.Ldap;
using ResponseEngine.Execution;

namespace ResponseEngine.Connectors.ActiveDirectory;

/// <summary>How the connector carries out one catalogue action on a user object: read, apply, and undo from the prior state.</summary>
internal abstract class AdAction
{
    public static FrozenDictionary<string, AdAction> All { get; } = new AdAction[]
    {
        new AccountDisableAction("disable_user", disable: true), new AccountDisableAction("enable_user", disable: false),
        new ResetPasswordAction(), new RevokeGroupAction(),
    }.ToFrozenDictionary(a => a.Name, StringComparer.Ordinal);

    public abstract string Name { get; }

    public abstract Task<TargetState> ReadAsync(AdConnector connector, AdUser user, ActionRequest request, CancellationToken cancellationToken);

    /// <summary>Changes the object; called only when <see cref="ReadAsync"/> found it not yet in the desired state.</summary>
    public abstract Task ApplyAsync(AdConnector connector, AdUser user, ActionRequest request, CancellationToken cancellationToken);

    public virtual Task RestoreAsync(AdConnector connector, AdUser user, ActionRequest request, JsonObject prior, CancellationToken cancellationToken) =>
        throw new ConnectorException($"{Name} cannot be undone: {request.Action.Reversal.How}");

    protected static DirectoryAttributeModification Replace(string attribute, object value)
    {
        var modification = new DirectoryAttributeModification { Name = attribute, Operation = DirectoryAttributeOperation.Replace };
        if (value is byte[] bytes) modification.Add(bytes);
        else modification.Add((string)value);
        return modification;
    }

    protected static ConnectorException BadPrior(string name) => new($"the recorded prior state has no valid '{name}'; nothing was restored");
}

/// <summary>disable_user and enable_user: the ACCOUNTDISABLE bit (0x2) of userAccountControl, every other bit kept as read.</summary>
internal sealed class AccountDisableAction : AdAction
{
    private const string Right = "Write property userAccountControl on the user object";
    private readonly bool _disable;

    public AccountDisableAction(string name, bool disable)
    {
        Name = name;
        _disable = disable;
    }

    public override string Name { get; }

    public override Task<TargetState> ReadAsync(AdConnector connector, AdUser user, ActionRequest request, CancellationToken cancellationToken)
    {
        var prior = new JsonObject { ["enabled"] = user.Enabled, ["user_account_control"] = user.UserAccountControl };
        var description = $"{(user.Enabled ? "enabled" : "disabled")} (userAccountControl {user.UserAccountControl})";
        return Task.FromResult(new TargetState(user.Enabled != _disable, prior.ToJsonString(), description));
    }

    public override Task ApplyAsync(AdConnector connector, AdUser user, ActionRequest request, CancellationToken cancellationToken) =>
        SetAsync(connector, user, _disable, cancellationToken);

    public override async Task RestoreAsync(AdConnector connector, AdUser user, ActionRequest request, JsonObject prior, CancellationToken cancellationToken)
    {
        if (prior["enabled"] is not JsonValue value || !value.TryGetValue<bool>(out var enabled)) throw BadPrior("enabled");
        if (user.Enabled == enabled) return;
        await SetAsync(connector, user, disable: !enabled, cancellationToken);
    }

    private static Task SetAsync(AdConnector connector, AdUser user, bool disable, CancellationToken cancellationToken)
    {
        var value = disable ? user.UserAccountControl | AdUser.AccountDisable : user.UserAccountControl & ~AdUser.AccountDisable;
        return connector.ModifyAsync(user.Dn, disable ? "disabling the account" : "enabling the account", Right, cancellationToken,
            Replace("userAccountControl", value.ToString(CultureInfo.InvariantCulture)));
    }
}

/// <summary>
/// reset_password: pwdLastSet=0, so the user must choose a new password at next logon; with set_random the password is
/// also replaced, in the same modify, by a random one nobody ever sees (it is not logged, audited or returned).
/// </summary>
internal sealed class ResetPasswordAction : AdAction
{
    private const string Alphabet = "ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz23456789!#$%&*+-=?@^_~";

    public override string Name => "reset_password";

    public override Task<TargetState> ReadAsync(AdConnector connector, AdUser user, ActionRequest request, CancellationToken cancellationToken)
    {
        var randomAt = user.PasswordResetWithForcedChangeAt;
        var done = user.PasswordMustChange && (!SetRandom(request) || randomAt is not null);
        var prior = new JsonObject
        {
            ["password_must_change"] = user.PasswordMustChange,
            ["pwd_last_set"] = user.PwdLastSet.ToString(CultureInfo.InvariantCulture),
        };
        var description = user.PasswordMustChange
            ? randomAt is { } at ? $"password reset at {at:O} and must be changed at next logon" : "must change password at next logon"
            : "password change not required";
        return Task.FromResult(new TargetState(done, prior.ToJsonString(), description));
    }

    public override Task ApplyAsync(AdConnector connector, AdUser user, ActionRequest request, CancellationToken cancellationToken)
    {
        if (!SetRandom(request))
        {
            return connector.ModifyAsync(user.Dn, "forcing a password change", "Write property pwdLastSet on the user object", cancellationToken,
                Replace("pwdLastSet", "0"));
        }

        // unicodePwd first: an administrator's reset sets pwdLastSet to now, the second change puts it back to 0.
        return connector.ModifyAsync(user.Dn, "resetting the password", "the Reset Password extended right and Write property pwdLastSet on the user object", cancellationToken,
            Replace("unicodePwd", QuotedUtf16(RandomPassword())), Replace("pwdLastSet", "0"));
    }

    /// <summary>24 characters with every class AD's complexity rule counts, from a cryptographic generator.</summary>
    internal static string RandomPassword()
    {
        Span<char> password = stackalloc char[24];
        ReadOnlySpan<string> classes = ["ABCDEFGHJKLMNPQRSTUVWXYZ", "abcdefghijkmnopqrstuvwxyz", "23456789", "!#$%&*+-=?@^_~"];
        for (var i = 0; i < classes.Length; i++) password[i] = classes[i][RandomNumberGenerator.GetInt32(classes[i].Length)];
        for (var i = classes.Length; i < password.Length; i++) password[i] = Alphabet[RandomNumberGenerator.GetInt32(Alphabet.Length)];
        RandomNumberGenerator.Shuffle(password);
        return new string(password);
    }

    private static byte[] QuotedUtf16(string password) => Encoding.Unicode.GetBytes("\"" + password + "\"");

    private static bool SetRandom(ActionRequest request) =>
        request.Parameters.Bool("set_random", request.Action.Parameters.FirstOrDefault(p => p.Name == "set_random")?.Default as bool? ?? false);
}

/// <summary>revoke_group: removes the account from the listed groups it is a direct member of; missing groups and non-members are no-ops.</summary>
internal sealed class RevokeGroupAction : AdAction
{
    public override string Name => "revoke_group";

    public override async Task<TargetState> ReadAsync(AdConnector connector, AdUser user, ActionRequest request, CancellationToken cancellationToken)
    {
        var named = request.Parameters.Strings("groups");
        await RefusePrimaryAsync(connector, user, named, cancellationToken);
        var held = await connector.DirectGroupsNamedAsync(user, named, cancellationToken);
        var prior = new JsonObject
        {
            ["groups"] = new JsonArray([.. held.Select(g => (JsonNode)JsonValue.Create(g.Name))]),
            ["group_ids"] = new JsonArray([.. held.Select(g => (JsonNode)JsonValue.Create(g.Id))]),
        };
        var description = held.Count > 0 ? "direct member of " + string.Join(", ", held.Select(g => g.Name)) : "direct member of none of " + string.Join(", ", named);
        return new TargetState(held.Count == 0, prior.ToJsonString(), description);
    }

    public override async Task ApplyAsync(AdConnector connector, AdUser user, ActionRequest request, CancellationToken cancellationToken)
    {
        await RefusePrimaryAsync(connector, user, request.Parameters.Strings("groups"), cancellationToken);
        foreach (var group in await connector.DirectGroupsNamedAsync(user, request.Parameters.Strings("groups"), cancellationToken))
        {
            try
            {
                await connector.ModifyAsync(group.Dn, "removing a member", $"Write property member on {group.Dn}", cancellationToken,
                    Member(user.Dn, DirectoryAttributeOperation.Delete));
            }
            catch (ConnectorException e) when (Fault(e) is LdapFault.NoSuchAttribute or LdapFault.UnwillingToPerform && IsAlreadyGone(e))
            {
                // Removed by someone else since the read: the desired state holds.
            }
        }
    }

    public override async Task RestoreAsync(AdConnector connector, AdUser user, ActionRequest request, JsonObject prior, CancellationToken cancellationToken)
    {
        if (prior["group_ids"] is not JsonArray ids) throw BadPrior("group_ids");
        foreach (var node in ids)
        {
            if (node is not JsonValue value || !value.TryGetValue<string>(out var text) || !Guid.TryParse(text, out var id)) throw BadPrior("group_ids");
            var group = await connector.FindGroupByIdAsync(id, cancellationToken)
                ?? throw new ConnectorException($"the group {id:D} the account was removed from no longer exists; it was not restored");
            if (user.MemberOf.Contains(group.Dn, StringComparer.OrdinalIgnoreCase)) continue;
            try
            {
                await connector.ModifyAsync(group.Dn, "adding a member back", $"Write property member on {group.Dn}", cancellationToken, Member(user.Dn, DirectoryAttributeOperation.Add));
            }
            catch (ConnectorException e) when (Fault(e) == LdapFault.EntryAlreadyExists)
            {
                // Added back by someone else since the read.
            }
        }
    }

    /// <summary>
    /// The primary group is not in the group's member list: nothing here could remove it, and reading "not a direct member"
    /// as done would report a revocation that did not happen. AD itself refuses to drop an account's primary group.
    /// </summary>
    private static async Task RefusePrimaryAsync(AdConnector connector, AdUser user, IEnumerable<string> named, CancellationToken cancellationToken)
    {
        if (await connector.PrimaryGroupAsync(user, cancellationToken) is not { } primary) return;
        if (named.FirstOrDefault(primary.Answers) is { } name)
        {
            throw new ConnectorException($"'{name}' is the primary group of {user.SamAccountName} (primaryGroupID {user.PrimaryGroupId}): AD does not remove an account " +
                "from its primary group; set another primaryGroupID first, or disable the account. Nothing was done");
        }
    }

    private static DirectoryAttributeModification Member(string userDn, DirectoryAttributeOperation operation)
    {
        var modification = new DirectoryAttributeModification { Name = "member", Operation = operation };
        modification.Add(userDn);
        return modification;
    }

    private static int? Fault(ConnectorException e) => e.InnerException is { } inner ? LdapFault.From(inner)?.Code : null;

    private static bool IsAlreadyGone(ConnectorException e) =>
        Fault(e) == LdapFault.NoSuchAttribute || e.Message.Contains("already deleted", StringComparison.OrdinalIgnoreCase) || e.Message.Contains("doesn't exist", StringComparison.OrdinalIgnoreCase);
}
