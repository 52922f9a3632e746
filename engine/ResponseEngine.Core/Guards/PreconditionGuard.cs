using ResponseEngine.Planning;

namespace ResponseEngine.Guards;

/// <summary>Applies each action's own preconditions to the target, narrowing parameters to what really applies.</summary>
public sealed class PreconditionGuard : IGuard
{
    public string Name => "precondition";

    public Decision Check(Decision decision, GuardContext context)
    {
        if (decision.Action is null || decision.Identity is null) return decision;
        var result = decision.Action.CheckPreconditions(decision.Identity, decision.Parameters, context.Policy);
        if (!result.Allowed)
        {
            return decision.Refuse(Verdict.Skip, Name, result.Reason ?? "precondition not met") with { Parameters = result.Parameters };
        }

        return decision with { Parameters = result.Parameters, Note = result.Reason ?? decision.Note };
    }
}
