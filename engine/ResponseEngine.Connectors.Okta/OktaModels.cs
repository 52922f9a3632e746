using System.Collections.Immutable;
using System.Text.Json.Serialization;

namespace ResponseEngine.Connectors.Okta;

/// <summary>The parts of an Okta user the connector reads.</summary>
internal sealed record OktaUser(string Id, string Status, OktaUserProfile Profile)
{
    public DateTimeOffset? LastLogin { get; init; }

    public DateTimeOffset? StatusChanged { get; init; }
}

internal sealed record OktaUserProfile(string Login)
{
    public string? Email { get; init; }

    public string? FirstName { get; init; }

    public string? LastName { get; init; }

    public string? DisplayName { get; init; }

    /// <summary>The base profile's employeeNumber: matched to AD employeeID / Entra employeeId when linking is configured to.</summary>
    public string? EmployeeNumber { get; init; }
}

/// <summary>An Okta group; only OKTA_GROUP membership can be changed through the groups API.</summary>
internal sealed record OktaGroup(string Id, string Type, OktaGroupProfile Profile);

internal sealed record OktaGroupProfile(string Name)
{
    public string? Description { get; init; }
}

/// <summary>
/// An admin role assignment (type SUPER_ADMIN, ORG_ADMIN, …, or CUSTOM): to the user itself (assignmentType USER) or to a
/// group the user belongs to (GROUP, with the group in _links.assignee).
/// </summary>
internal sealed record OktaRole(string Type)
{
    public string? Id { get; init; }

    public string? Label { get; init; }

    public string? Status { get; init; }

    public string? AssignmentType { get; init; }

    [JsonPropertyName("_links")]
    public OktaRoleLinks? Links { get; init; }

    public bool Active => Status is null or "ACTIVE";

    public bool ToGroup => string.Equals(AssignmentType, "GROUP", StringComparison.OrdinalIgnoreCase);

    /// <summary>The id at the end of the assignee link (a group's id for a GROUP assignment).</summary>
    public string? AssigneeId => Links?.Assignee?.Href is { } href && Uri.TryCreate(href, UriKind.Absolute, out var uri)
        ? Uri.UnescapeDataString(uri.AbsolutePath.TrimEnd('/').Split('/')[^1])
        : null;
}

internal sealed record OktaRoleLinks(OktaLink? Assignee);

/// <summary>A group rule: the way Okta expresses "members of these groups are also members of those".</summary>
internal sealed record OktaGroupRule(string Id, string Status)
{
    public OktaGroupRuleConditions? Conditions { get; init; }

    public OktaGroupRuleActions? Actions { get; init; }
}

internal sealed record OktaGroupRuleConditions(OktaExpression? Expression);

internal sealed record OktaExpression(string? Value, string? Type);

internal sealed record OktaGroupRuleActions(OktaAssignUserToGroups? AssignUserToGroups);

internal sealed record OktaAssignUserToGroups(ImmutableArray<string> GroupIds);

/// <summary>A System Log event, as far as the connector reads it.</summary>
internal sealed record OktaLogEvent(string Uuid, DateTimeOffset Published, string EventType);

/// <summary>One entry of <c>/api/v1/iam/assignees/users</c>: a user holding at least one admin role.</summary>
internal sealed record OktaRoleAssignee(string Id);

/// <summary>The body of <c>/api/v1/iam/assignees/users</c>, paged through <c>_links.next</c>.</summary>
internal sealed record OktaRoleAssignees(ImmutableArray<OktaRoleAssignee> Value)
{
    [JsonPropertyName("_links")]
    public OktaLinks? Links { get; init; }
}

internal sealed record OktaLinks(OktaLink? Next);

internal sealed record OktaLink(string Href);

/// <summary>Okta's error body: errorCode, errorSummary and the causes of a validation failure.</summary>
internal sealed record OktaError(string? ErrorCode, string? ErrorSummary)
{
    public string? ErrorId { get; init; }

    public ImmutableArray<OktaErrorCause> ErrorCauses { get; init; } = [];

    /// <summary>OAuth endpoints answer with <c>error</c> and <c>error_description</c> instead.</summary>
    [JsonPropertyName("error")]
    public string? OAuthError { get; init; }

    [JsonPropertyName("error_description")]
    public string? OAuthErrorDescription { get; init; }
}

internal sealed record OktaErrorCause(string? ErrorSummary);

/// <summary>The answer of <c>/oauth2/v1/token</c>.</summary>
internal sealed record OktaTokenResponse(
    [property: JsonPropertyName("access_token")] string AccessToken,
    [property: JsonPropertyName("token_type")] string TokenType,
    [property: JsonPropertyName("expires_in")] int ExpiresIn)
{
    [JsonPropertyName("scope")]
    public string? Scope { get; init; }
}
