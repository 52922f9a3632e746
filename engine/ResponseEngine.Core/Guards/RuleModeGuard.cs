using ResponseEngine.Planning;
using ResponseEngine.Rules;

namespace ResponseEngine.Guards;

/// <summary>Rules in observe mode, and rules past their expiry date, only plan: their actions are skipped.</summary>
public sealed class RuleModeGuard : IGuard
{
    public string Name => "rule_mode";

    public Decision Check(Decision decision, GuardContext context)
    {
        var rule = decision.Rule;
        if (rule.Mode == RuleMode.Observe)
        {
            return decision.Refuse(Verdict.Skip, Name, "rule is in observe mode");
        }

        if (rule.IsExpired(context.Now))
        {
            return decision.Refuse(Verdict.Skip, Name, $"rule expired on {rule.Expires:yyyy-MM-dd} and only observes");
        }

        return decision;
    }
}
