using System.Globalization;
using System.Text;
using ResponseEngine.TestKit;
using ResponseEngine.TestKit.Okta;

namespace ResponseEngine.Reliability.Tests.Crash;

/// <summary>One planned action of the scenario: the org must end with exactly one effect of it.</summary>
public sealed record ExpectedAction(string Action, string UserId, string? GroupId);

/// <summary>
/// An Okta org of <see cref="Users"/> users and findings whose rules ask for about 1.4 actions per user (150 users: about
/// 210 actions): account takeover → revoke sessions and suspend (a third of the users), weak password → expire password
/// (two fifths), stale access → leave Contractors (the rest), plus a few second findings about users already covered
/// (each ends as a no-op or skipped). The order of the findings and the extra findings come from the seed.
/// </summary>
public sealed class CrashScenario
{
    public const string GroupId = "00g-contractors";

    private CrashScenario(int seed, int users)
    {
        Seed = seed;
        Users = users;
        var random = new Random(seed);
        var findings = new List<(string Type, int User)>();
        var ato = users / 3;
        var weak = ato + (users * 2 / 5);
        StaleFrom = weak;
        for (var i = 0; i < ato; i++) findings.Add(("account_takeover", i));
        for (var i = ato; i < weak; i++) findings.Add(("weak_password", i));
        for (var i = weak; i < users; i++) findings.Add(("stale_access", i));
        var extra = random.Next(1, Math.Max(2, users / 10));
        for (var i = 0; i < extra; i++)
        {
            findings.Add(findings[random.Next(users)]);
        }

        Findings = [.. findings.OrderBy(_ => random.Next())];
        Expected = [.. findings.Distinct().SelectMany(f => f.Type switch
        {
            "account_takeover" => new[] { new ExpectedAction("revoke_sessions", UserId(f.User), null), new ExpectedAction("disable_user", UserId(f.User), null) },
            "weak_password" => [new ExpectedAction("reset_password", UserId(f.User), null)],
            _ => [new ExpectedAction("revoke_group", UserId(f.User), GroupId)],
        })];
        ActionCount = Findings.Sum(f => f.Type == "account_takeover" ? 2 : 1);
    }

    public int Seed { get; }

    public int Users { get; }

    /// <summary>Users from this index on are in Contractors and have a stale-access finding.</summary>
    public int StaleFrom { get; }

    public IReadOnlyList<(string Type, int User)> Findings { get; }

    public IReadOnlyList<ExpectedAction> Expected { get; }

    /// <summary>Decisions to execute, counting the repeated findings (which end as no-ops).</summary>
    public int ActionCount { get; }

    public static CrashScenario For(int seed, int users = 150) => new(seed, users);

    public static string UserId(int i) => "00u" + i.ToString("D4", CultureInfo.InvariantCulture);

    public static string Login(int i) => $"user{i:D4}@corp.example.com";

    public OktaEmulator Org(Uri baseUrl, TimeProvider? time = null)
    {
        var org = new OktaEmulator(time ?? TimeProvider.System, baseUrl) { RateLimitPerMinute = 1_000_000, ApiToken = OrgToken };
        var contractors = org.AddGroup(GroupId, "Contractors");
        org.AddGroup("00g-staff", "Staff");
        for (var i = 0; i < Users; i++)
        {
            org.AddUser(UserId(i), Login(i));
            if (i >= StaleFrom) contractors.Members.Add(UserId(i));
            org.Groups["00g-staff"].Members.Add(UserId(i));
        }

        return org;
    }

    public const string OrgToken = "00crash-test-token";

    /// <summary>Writes rules/ and findings.ndjson into <paramref name="dir"/>.</summary>
    public void WriteInputs(TempDirectory dir)
    {
        foreach (var (file, yaml) in Rules()) dir.Write(file, yaml);
        dir.Write("findings.ndjson", FindingsText());
    }

    /// <summary>
    /// The three rules, each with a 24 h cooldown as every shipped rule has (a retry after a crash must not be refused
    /// by it); <paramref name="weakLimit"/> adds limits.max_per_hour to the weak-password rule.
    /// </summary>
    public static IReadOnlyList<(string File, string Yaml)> Rules(int? weakLimit = null) =>
    [
        ("rules/okta/ato.yaml", RuleFiles.Rule(id: "ato", types: "[account_takeover]", providers: "[okta]",
            actions: "  - action: revoke_sessions\n  - action: disable_user", extra: Limits(null))),
        ("rules/okta/weak.yaml", RuleFiles.Rule(id: "weak", types: "[weak_password]", providers: "[okta]", actions: "  - action: reset_password",
            extra: Limits(weakLimit))),
        ("rules/okta/stale.yaml", RuleFiles.Rule(id: "stale", types: "[stale_access]", providers: "[okta]",
            actions: "  - action: revoke_group\n    with: { groups: [Contractors] }", extra: Limits(null))),
    ];

    private static string Limits(int? perHour) => perHour is { } limit ? $"limits: {{ cooldown: 24h, max_per_hour: {limit} }}" : "limits: { cooldown: 24h }";

    public string FindingsText()
    {
        var text = new StringBuilder();
        var n = 0;
        foreach (var (type, user) in Findings)
        {
            text.Append("{\"id\":\"f").Append(n++).Append("\",\"source\":\"crash\",\"type\":\"").Append(type)
                .Append("\",\"severity\":\"high\",\"observed_at\":\"2026-11-20T08:00:00Z\",\"subject\":{\"provider\":\"okta\",\"name\":\"")
                .Append(Login(user)).Append("\"}}");
            text.Append('\n');
        }

        return text.ToString();
    }

    /// <summary>The actions the rules give a finding of <paramref name="type"/>.</summary>
    public static string[] ActionsFor(string type) => type switch
    {
        "account_takeover" => ["revoke_sessions", "disable_user"],
        "weak_password" => ["reset_password"],
        _ => ["revoke_group"],
    };
}
