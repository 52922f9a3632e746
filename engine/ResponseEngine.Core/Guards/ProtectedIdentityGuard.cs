using ResponseEngine.Configuration;
using ResponseEngine.Planning;

namespace ResponseEngine.Guards;

/// <summary>Break-glass accounts, the engine's own accounts and listed users and groups are never acted on.</summary>
public sealed class ProtectedIdentityGuard(ProtectedIdentityOptions options) : IGuard
{
    public string Name => "protected_identity";

    public Decision Check(Decision decision, GuardContext context)
    {
        var identity = decision.Identity;
        if (identity is null) return decision;
        bool Named(string entry) =>
            string.Equals(entry, identity.Id, StringComparison.OrdinalIgnoreCase) || string.Equals(entry, identity.Name, StringComparison.OrdinalIgnoreCase)
            || string.Equals(entry, identity.Upn, StringComparison.OrdinalIgnoreCase) || string.Equals(entry, identity.Email, StringComparison.OrdinalIgnoreCase);

        if (options.EngineAccounts.Any(Named)) return decision.Refuse(Verdict.Skip, Name, "the engine's own service account");
        if (options.Accounts.Any(Named)) return decision.Refuse(Verdict.Skip, Name, "listed as protected in respond.yaml");
        var tag = identity.Tags.FirstOrDefault(t => options.Tags.Contains(t, StringComparer.OrdinalIgnoreCase));
        if (tag is not null) return decision.Refuse(Verdict.Skip, Name, $"account is tagged {tag}");
        var group = options.Groups.FirstOrDefault(identity.IsMemberOf);
        if (group is not null) return decision.Refuse(Verdict.Skip, Name, $"member of protected group '{group}'");
        return decision;
    }
}
