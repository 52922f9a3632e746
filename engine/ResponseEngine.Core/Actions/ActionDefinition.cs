using System.Collections.Immutable;
using ResponseEngine.Findings;
using ResponseEngine.Identities;
using ResponseEngine.Identities.Privilege;

namespace ResponseEngine.Actions;

public enum ParameterType
{
    String,
    Boolean,
    Integer,
    StringList,
}

/// <summary>One parameter an action takes under <c>with:</c>.</summary>
public sealed record ParameterSpec(string Name, ParameterType Type, bool Required, string Description)
{
    /// <summary>When set, the parameter is only meaningful for these providers; a rule for others is rejected.</summary>
    public ImmutableArray<Provider> OnlyFor { get; init; } = [];

    /// <summary>The value a connector uses when a rule does not set the parameter; not written into decisions.</summary>
    public object? Default { get; init; }

    public string TypeName => Type switch
    {
        ParameterType.String => "string",
        ParameterType.Boolean => "boolean",
        ParameterType.Integer => "integer",
        ParameterType.StringList => "list of strings",
        _ => "value",
    };
}

/// <summary>How an action is undone, for `respond undo` and for reviewers judging the risk of a rule.</summary>
public sealed record Reversal(bool Reversible, string How)
{
    public static Reversal Irreversible(string why) => new(false, why);

    public static Reversal By(string how) => new(true, how);
}

/// <summary>Whether an action may be applied to an identity, and with which parameters once narrowed to what it really holds.</summary>
public sealed record PreconditionResult(bool Allowed, ActionParameters Parameters, string? Reason)
{
    public static PreconditionResult Allow(ActionParameters parameters, string? note = null) => new(true, parameters, note);

    public static PreconditionResult Refuse(ActionParameters parameters, string reason) => new(false, parameters, reason);
}

/// <summary>
/// A verb of the catalogue. Each action is one class that says what it does, to which providers, with which parameters,
/// under which preconditions and permissions, and how it is reversed.
/// </summary>
public abstract class ActionDefinition
{
    public abstract string Name { get; }

    public abstract string Summary { get; }

    public abstract ImmutableArray<Provider> Providers { get; }

    public virtual ImmutableArray<ParameterSpec> Parameters => [];

    /// <summary>Takes something away from the account; counted by the blast-radius breaker and lockout protection.</summary>
    public abstract bool Destructive { get; }

    public abstract Reversal Reversal { get; }

    /// <summary>What the engine's own account needs per provider: Graph application permissions, Okta scopes, AD rights.</summary>
    public abstract ImmutableDictionary<Provider, ImmutableArray<string>> Permissions { get; }

    /// <summary>What is checked on the target before acting, in words, for the catalogue.</summary>
    public virtual ImmutableArray<string> Preconditions => [];

    /// <summary>Checks the target against the action's preconditions, narrowing parameters to what applies.</summary>
    public virtual PreconditionResult CheckPreconditions(Identity identity, ActionParameters parameters, PrivilegedPolicy policy) =>
        PreconditionResult.Allow(parameters);

    /// <summary>
    /// What the action does to the privilege graph (users taken out, direct edges cut): declared by the action so that
    /// lockout protection and pending intents never guess it from the action's name. Nothing, for actions that remove no privilege.
    /// </summary>
    public virtual ImmutableArray<GraphEdit> Effect(string targetId, ActionParameters parameters) => [];

    /// <summary>
    /// The account as it will be once the action has taken effect, so that later decisions of the same run (and of the
    /// plan) check their preconditions on it rather than on the state read before this one.
    /// </summary>
    public virtual Identity Expected(Identity identity, ActionParameters parameters) => identity;

    public bool Supports(Provider provider) => Providers.Contains(provider);

    protected static ImmutableDictionary<Provider, ImmutableArray<string>> Needs(
        string[]? ad = null, string[]? entra = null, string[]? okta = null)
    {
        var builder = ImmutableDictionary.CreateBuilder<Provider, ImmutableArray<string>>();
        if (ad is not null) builder[Provider.Ad] = [.. ad];
        if (entra is not null) builder[Provider.Entra] = [.. entra];
        if (okta is not null) builder[Provider.Okta] = [.. okta];
        return builder.ToImmutable();
    }
}
