using ResponseEngine.Connectors.Entra;
using ResponseEngine.Findings;
using ResponseEngine.Identities;
using ResponseEngine.TestKit;
using ResponseEngine.TestKit.Graph;

namespace ResponseEngine.Reliability.Tests.Faults;

/// <summary>
/// The Entra connector (real Graph SDK) against the Graph emulator: a lookup whose <c>$batch</c> partly fails (items answered
/// 500/503/504/429/403 inside an otherwise good batch, or the batch call itself reset or answered 503/504) fails closed — it never
/// returns an administrator as less privileged than they are — and names built into OData filters cannot select anyone
/// but their owner.
/// </summary>
public sealed class EntraFaultTests
{
    private static readonly GraphFault[] InBatch = [GraphFault.ServerError, GraphFault.ServiceUnavailable, GraphFault.GatewayTimeout, GraphFault.Throttled, GraphFault.Forbidden];
    // (GraphFault.Timeout needs a client deadline on the driven clock, which would also fire during real loopback I/O.)
    private static readonly GraphFault[] TopLevel = [GraphFault.ConnectionReset, GraphFault.ServiceUnavailable, GraphFault.GatewayTimeout];

    public static TheoryData<int> Seeds()
    {
        var data = new TheoryData<int>();
        for (var seed = 1; seed <= Reliability.Inputs(10); seed++) data.Add(seed);
        return data;
    }

    [Theory]
    [MemberData(nameof(Seeds))]
    public async Task Resolve_PartialBatchFailure_FailsClosedNeverUnderstatesPrivilege(int seed)
    {
        await using var tenant = await Tenant.StartAsync();
        var random = new Random(seed);
        var outcomes = new Dictionary<string, int>();
        for (var round = 0; round < 12; round++)
        {
            var inBatch = random.Next(2) == 0;
            var fault = inBatch ? InBatch[random.Next(InBatch.Length)] : TopLevel[random.Next(TopLevel.Length)];
            var count = random.Next(1, 8);
            tenant.Emulator.FailNext(count, fault, inBatch ? r => r.InBatch : r => r.Method == "POST" && r.RawPath.EndsWith("$batch", StringComparison.Ordinal));
            // Look the admin up until every injected fault has been met (each lookup may use only some of them).
            for (var attempt = 0; attempt < 10 && (attempt == 0 || tenant.Emulator.PendingFaults > 0); attempt++)
            {
                var lookup = await tenant.Clock.RunAsync(() => tenant.Connector.ResolveAsync(new Subject(Provider.Entra, null, "adele.admin@corp.example.com"), CancellationToken.None),
                    TimeSpan.FromHours(2));
                var key = $"{fault}:{(lookup.Identity is null ? "not-resolved" : "resolved")}";
                outcomes[key] = outcomes.GetValueOrDefault(key) + 1;
                if (lookup.Identity is { } identity)
                {
                    identity.Privileged.Should().BeTrue($"seed {seed} round {round}: after {count}× {fault}{(inBatch ? " inside $batch" : " on $batch")} the admin came back unprivileged");
                    identity.GlobalAdmin.Should().BeTrue($"seed {seed} round {round}: {fault}");
                }
            }
        }

        Reliability.Record("entra-faults", $"seed={seed} lookups={outcomes.Values.Sum()} requests={tenant.Emulator.Requests.Count} in-batch={tenant.Emulator.Requests.Count(r => r.InBatch)} "
            + string.Join(' ', outcomes.OrderBy(k => k.Key).Select(k => $"{k.Key}={k.Value}")) + " understated-privilege=0");
    }

    [Fact]
    public async Task Resolve_ODataInjectionInNames_FindsExactlyThatUserOrNobody()
    {
        await using var tenant = await Tenant.StartAsync();
        tenant.Emulator.Tenant.Users["u-obrien"] = new GraphUser("u-obrien", "o'brien@corp.example.com") { Mail = "o'brien@corp.example.com", MailNickname = "obrien" };
        string[] names =
        [
            "x' or userPrincipalName ne 'y", "' or 1 eq 1 or '", "'", "''", "o''brien@corp.example.com", "adele.admin@corp.example.com' or startswith(userPrincipalName,'",
            "*", "adele.admin@corp.example.com')/memberOf?$x=('", "%27 or true", "adele.admin@corp.example.com\u0000", "../users/u-admin", "u-admin?$select=id",
            "x eq x", "\\'", "adele.admin@corp.example.com' and accountEnabled eq true and 'a' eq 'a",
        ];
        var wrong = new List<string>();
        foreach (var name in names.Append("o'brien@corp.example.com").Append("adele.admin@corp.example.com"))
        {
            var lookup = await tenant.Clock.RunAsync(() => tenant.Connector.ResolveAsync(new Subject(Provider.Entra, null, name), CancellationToken.None), TimeSpan.FromHours(1));
            var owner = tenant.Emulator.Tenant.Users.Values.FirstOrDefault(u => string.Equals(u.UserPrincipalName, name, StringComparison.OrdinalIgnoreCase)
                || string.Equals(u.Mail, name, StringComparison.OrdinalIgnoreCase) || string.Equals(u.MailNickname, name, StringComparison.OrdinalIgnoreCase));
            if (lookup.Identity is { } identity && identity.Id != owner?.Id) wrong.Add($"'{name}' resolved to {identity.Id}");
            if (owner is not null && lookup.Identity?.Id != owner.Id) wrong.Add($"'{name}' did not find {owner.Id}: {lookup.Problem}");
        }

        wrong.Should().BeEmpty();
        Reliability.Record("injection", $"entra names={names.Length + 2} requests={tenant.Emulator.Requests.Count} wrong-user=0");
    }

    /// <summary>A tenant with one Global Administrator and a few users, the Entra connector on a driven clock.</summary>
    private sealed class Tenant : IAsyncDisposable
    {
        private readonly TempDirectory _directory = new();

        private Tenant(GraphEmulator emulator, DrivenClock clock)
        {
            Emulator = emulator;
            Clock = clock;
            var options = new EntraOptions
            {
                TenantId = "11111111-2222-3333-4444-555555555555",
                ClientId = "66666666-7777-8888-9999-000000000000",
                BaseUrl = emulator.BaseUrl,
                Auth = EntraAuthMode.ClientSecret,
                ClientSecret = "unused: the credential double answers",
                RequestTimeout = null,
                MaxRetries = 2,
            };
            Connector = EntraConnector.Create(options, PrivilegedPolicy.Default, clock, new StaticTokenCredential(), workingDirectory: _directory.Path);
        }

        public GraphEmulator Emulator { get; }

        public DrivenClock Clock { get; }

        public EntraConnector Connector { get; }

        public static async Task<Tenant> StartAsync()
        {
            var clock = new DrivenClock(new DateTimeOffset(2026, 11, 26, 8, 0, 0, TimeSpan.Zero));
            var emulator = await GraphEmulator.StartAsync(clock);
            foreach (var role in GraphRoles.BuiltIn) emulator.Tenant.RoleDefinitions.TryAdd(role.Id, role);
            emulator.Tenant.Users["u-admin"] = new GraphUser("u-admin", "adele.admin@corp.example.com") { Mail = "adele.admin@corp.example.com", MailNickname = "adele.admin" };
            emulator.Tenant.RoleAssignments.Add(new GraphRoleAssignment("ra-1", "u-admin", GraphRoles.GlobalAdministrator));
            var admins = new GraphGroup("g-admins", "Tier0 Admins") { IsAssignableToRole = true };
            admins.Members.Add("u-admin");
            emulator.Tenant.Groups[admins.Id] = admins;
            for (var i = 0; i < 10; i++) emulator.Tenant.Users[$"u-{i}"] = new GraphUser($"u-{i}", $"user{i}@corp.example.com") { Mail = $"user{i}@corp.example.com" };
            return new Tenant(emulator, clock);
        }

        public async ValueTask DisposeAsync()
        {
            Connector.Dispose();
            await Emulator.DisposeAsync();
            _directory.Dispose();
        }
    }
}
