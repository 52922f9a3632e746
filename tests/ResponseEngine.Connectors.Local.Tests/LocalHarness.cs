using System.Text.Json.Nodes;
using Microsoft.Extensions.Time.Testing;
using ResponseEngine.Connectors.Local;
using ResponseEngine.Execution;
using ResponseEngine.Findings;
using ResponseEngine.Identities;
using ResponseEngine.TestKit;
using ResponseEngine.TestKit.Connectors;

namespace ResponseEngine.Connectors.Local.Tests;

/// <summary>A local directory in a scratch folder: the seed file stands in for samples/directory.json.</summary>
public sealed class LocalHarness : ConnectorHarness
{
    public static readonly DateTimeOffset Start = new(2026, 11, 26, 8, 0, 0, TimeSpan.Zero);

    private readonly TempDirectory _folder;

    public LocalHarness(ContractDirectory seed, Provider provider)
        : this(SeedFile.Json(seed), provider)
    {
    }

    public LocalHarness(string seedJson, Provider provider)
    {
        _folder = new TempDirectory();
        SeedPath = _folder.Write("seed/directory.json", seedJson);
        WorkingCopyPath = Path.Combine(_folder.Path, "state", "directory.json");
        Directory = LocalDirectory.Open(SeedPath, WorkingCopyPath, Time);
        Connector = Directory.Connector(provider);
    }

    public FakeTimeProvider Time { get; } = new(Start);

    public string SeedPath { get; }

    public string WorkingCopyPath { get; }

    public LocalDirectory Directory { get; }

    public override IConnector Connector { get; }

    public override Task<Identity?> InspectAsync(string userId, CancellationToken cancellationToken)
    {
        return InspectAsync();

        // Another reader of the same files, as another process would be: the working copy and the journal since.
        async Task<Identity?> InspectAsync()
        {
            using var other = LocalDirectory.Open(SeedPath, WorkingCopyPath, Time);
            var snapshot = await other.ReadSnapshotAsync(cancellationToken);
            return snapshot.Users.FirstOrDefault(u => u.Provider == Connector.Provider && u.Id == userId);
        }
    }

    /// <summary>The working copy file once the journal is folded into it.</summary>
    public async Task<byte[]> WorkingCopyBytesAsync(CancellationToken cancellationToken)
    {
        await Directory.CompactAsync(cancellationToken);
        return await File.ReadAllBytesAsync(WorkingCopyPath, cancellationToken);
    }

    public async Task<string> WorkingCopyTextAsync(CancellationToken cancellationToken) =>
        System.Text.Encoding.UTF8.GetString(await WorkingCopyBytesAsync(cancellationToken));

    public override async ValueTask DisposeAsync()
    {
        Directory.Dispose();
        _folder.Dispose();
        await base.DisposeAsync();
    }
}

/// <summary>Writes a contract seed as a snapshot file (schemas/directory.schema.json).</summary>
public static class SeedFile
{
    public static string Json(ContractDirectory seed)
    {
        var groups = new JsonArray();
        foreach (var group in seed.Groups)
        {
            var node = new JsonObject { ["provider"] = group.Provider.Name(), ["id"] = group.Id, ["name"] = group.Name };
            if (group.Dynamic) node["dynamic"] = true;
            if (group.Synced) node["synced"] = true;
            if (group.OktaType is not null) node["okta_type"] = group.OktaType;
            if (!group.MemberOf.IsEmpty) node["member_of"] = Array(group.MemberOf);
            if (!group.Roles.IsEmpty) node["roles"] = Array(group.Roles);
            if (group.RoleAssignable) node["role_assignable"] = true;
            groups.Add(node);
        }

        var users = new JsonArray();
        foreach (var user in seed.Users)
        {
            var node = new JsonObject { ["provider"] = user.Provider.Name(), ["id"] = user.Id, ["name"] = user.Name };
            if (user.Upn is not null) node["upn"] = user.Upn;
            if (user.Email is not null) node["email"] = user.Email;
            if (user.DisplayName is not null) node["display_name"] = user.DisplayName;
            if (user.OktaStatus is not null) node["okta_status"] = user.OktaStatus;
            else if (!user.Enabled) node["enabled"] = false;
            if (user.Groups.Count > 0) node["groups"] = Array(user.Groups);
            if (user.Roles.Count > 0) node["roles"] = Array(user.Roles);
            if (user.PrimaryGroup is not null) node["primary_group"] = user.PrimaryGroup;
            if (user.EligibleRoles.Count > 0) node["eligible_roles"] = Array(user.EligibleRoles);
            if (user.MfaPolicies.Count > 0) node["mfa_policies"] = Array(user.MfaPolicies);
            if (user.RiskState is not null) node["risk_state"] = user.RiskState;
            if (user.PasswordMustChange) node["password_must_change"] = true;
            users.Add(node);
        }

        return new JsonObject { ["version"] = 1, ["groups"] = groups, ["users"] = users }.ToJsonString();
    }

    private static JsonArray Array(IEnumerable<string> items) => new([.. items.Select(i => (JsonNode)JsonValue.Create(i))]);
}
