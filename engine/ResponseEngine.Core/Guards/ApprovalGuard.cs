using ResponseEngine.Planning;
using ResponseEngine.Rules;

namespace ResponseEngine.Guards;

/// <summary>Rules marked <c>approval: required</c> hold their actions until a person approves them.</summary>
public sealed class ApprovalGuard : IGuard
{
    public string Name => "approval";

    public Decision Check(Decision decision, GuardContext context) =>
        decision.Rule.Approval == ApprovalMode.Required
            ? decision.Refuse(Verdict.Hold, Name, "rule requires approval: `respond approve ID`")
            : decision;
}
