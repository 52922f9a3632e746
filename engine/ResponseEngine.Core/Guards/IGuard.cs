using ResponseEngine.Identities;
using ResponseEngine.Planning;

namespace ResponseEngine.Guards;

/// <summary>What a guard knows beyond the decision itself.</summary>
public sealed record GuardContext(DateTimeOffset Now, PrivilegedPolicy Policy);

/// <summary>
/// One check between a decision and its execution. A guard returns the decision unchanged to let it pass, or a copy
/// with another verdict that names the guard and the reason.
/// </summary>
public interface IGuard
{
    string Name { get; }

    Decision Check(Decision decision, GuardContext context);
}
