using System.Collections.Frozen;
using ResponseEngine.Findings;
using ResponseEngine.Rules;

namespace ResponseEngine.Policy.Conditions;

internal delegate Value Getter(in EvaluationContext context);

internal sealed record VariableInfo(string Name, VType Type, Getter Get, string Description);

internal sealed record FunctionInfo(string Name, string Signature, string Description);

/// <summary>The fixed, documented set of names a condition may use; anything else is a load error.</summary>
public static class Vocabulary
{
    internal static FrozenDictionary<string, VariableInfo> Variables { get; } = new VariableInfo[]
    {
        new("finding.id", VType.String, static (in EvaluationContext c) => Value.Of(c.Finding.Id), "the finding's id at its source"),
        new("finding.source", VType.String, static (in EvaluationContext c) => Value.Of(c.Finding.Source), "the product that reported it"),
        new("finding.kind", VType.String, static (in EvaluationContext c) => Value.Of(c.Finding.Kind == FindingKind.Posture ? "posture" : "detection"), "'detection' or 'posture'"),
        new("finding.type", VType.String, static (in EvaluationContext c) => Value.Of(c.Finding.Type), "snake_case type, e.g. weak_password"),
        new("finding.severity", VType.Severity, static (in EvaluationContext c) => Value.Of(c.Finding.Severity), "ordered: 'low' < 'medium' < 'high' < 'critical'"),
        new("finding.title", VType.String, static (in EvaluationContext c) => Value.Of(c.Finding.Title), "the finding's title"),
        new("finding.age_hours", VType.Number, static (in EvaluationContext c) => Value.Of((c.Now - c.Finding.ObservedAt).TotalHours), "hours since observed_at"),
        new("finding.subject.provider", VType.String, static (in EvaluationContext c) => Value.Of(c.Finding.Subject.Provider.Name()), "'ad', 'entra' or 'okta'"),
        new("finding.subject.id", VType.String, static (in EvaluationContext c) => Value.Of(c.Finding.Subject.Id), "the subject id as the source gave it"),
        new("finding.subject.name", VType.String, static (in EvaluationContext c) => Value.Of(c.Finding.Subject.Name), "the subject name as the source gave it"),
        new("identity.provider", VType.String, static (in EvaluationContext c) => Value.Of(c.Identity.Provider.Name()), "'ad', 'entra' or 'okta'"),
        new("identity.id", VType.String, static (in EvaluationContext c) => Value.Of(c.Identity.Id), "objectGUID, Entra object id or Okta id"),
        new("identity.name", VType.String, static (in EvaluationContext c) => Value.Of(c.Identity.Name), "sAMAccountName, mail nickname or Okta login"),
        new("identity.upn", VType.String, static (in EvaluationContext c) => Value.Of(c.Identity.Upn), "userPrincipalName (or login)"),
        new("identity.email", VType.String, static (in EvaluationContext c) => Value.Of(c.Identity.Email), "e-mail address"),
        new("identity.display_name", VType.String, static (in EvaluationContext c) => Value.Of(c.Identity.DisplayName), "display name"),
        new("identity.enabled", VType.Bool, static (in EvaluationContext c) => Value.Of(c.Identity.Enabled), "the account can sign in"),
        new("identity.guest", VType.Bool, static (in EvaluationContext c) => Value.Of(c.Identity.Guest), "an Entra B2B guest"),
        new("identity.privileged", VType.Bool, static (in EvaluationContext c) => Value.Of(c.Identity.Privileged), "member of a privileged group or holder of a privileged role"),
        new("identity.global_admin", VType.Bool, static (in EvaluationContext c) => Value.Of(c.Identity.GlobalAdmin), "holds a global-admin-level Entra role"),
        new("identity.groups", VType.List, static (in EvaluationContext c) => Value.OfList(c.Identity.TransitiveGroups), "names of all groups, nesting included"),
        new("identity.roles", VType.List, static (in EvaluationContext c) => Value.OfList(c.Identity.RoleSet), "directory or admin roles held"),
        new("identity.tags", VType.List, static (in EvaluationContext c) => Value.OfList(c.Identity.Tags), "labels such as break_glass, service_account"),
    }.ToFrozenDictionary(v => v.Name, StringComparer.Ordinal);

    internal static FrozenDictionary<string, FunctionInfo> Functions { get; } = new FunctionInfo[]
    {
        new("member_of", "member_of(group)", "member of the group, directly or through nesting (case-insensitive)"),
        new("has_role", "has_role(role)", "holds the directory or admin role (case-insensitive)"),
        new("has_tag", "has_tag(tag)", "the identity carries the tag (break_glass, service_account, ...)"),
        new("attr", "attr(key) or attr(key, default)", "a finding attribute: string, number, boolean or list; missing is null (comparisons with it are false)"),
        new("has_attr", "has_attr(key)", "the finding has the attribute"),
        new("contains", "contains(text_or_list, value)", "substring or list membership (case-insensitive)"),
        new("starts_with", "starts_with(text, prefix)", "case-insensitive prefix test"),
        new("ends_with", "ends_with(text, suffix)", "case-insensitive suffix test"),
        new("matches", "matches(text, 'regex')", ".NET regular expression, constant, checked at load; 100 ms limit"),
        new("lower", "lower(text)", "lower-case copy"),
        new("count", "count(list)", "number of items"),
    }.ToFrozenDictionary(f => f.Name, StringComparer.Ordinal);

    /// <summary>Variable names and descriptions, for documentation and `respond schema`.</summary>
    public static IEnumerable<(string Name, string Type, string Description)> DescribeVariables() =>
        Variables.Values.OrderBy(v => v.Name, StringComparer.Ordinal).Select(v => (v.Name, Value.TypeName(v.Type), v.Description));

    public static IEnumerable<(string Signature, string Description)> DescribeFunctions() =>
        Functions.Values.OrderBy(f => f.Name, StringComparer.Ordinal).Select(f => (f.Signature, f.Description));
}
