using System.Globalization;
using System.Text;
using System.Text.Json;

namespace ResponseEngine.TestKit;

/// <summary>
/// A generated plan-versus-run workload: a directory snapshot, rules and findings, and the guard limits for respond.yaml,
/// shaped so that the breaker, per-rule and per-provider rate limits, cooldown and pending remediation can all bind
/// (two rules share an action on one finding type; findings repeat accounts; limits are below the volume).
/// </summary>
public sealed record PlanWorkload(
    string SnapshotJson,
    IReadOnlyList<(string File, string Yaml)> Rules,
    string FindingsNdjson,
    int BreakerThreshold,
    int OktaPerHour,
    int EntraPerHour,
    int LockoutMinimum)
{
    private static readonly string[] ProviderNames = ["ad", "entra", "okta"];

    /// <summary>The guards section of respond.yaml for this workload.</summary>
    public string GuardsYaml => string.Create(CultureInfo.InvariantCulture,
        $"guards:\n  lockout: {{ minimum: {LockoutMinimum} }}\n  rate_limits: {{ per_provider_per_hour: {{ okta: {OktaPerHour}, entra: {EntraPerHour} }} }}\n  breaker: {{ threshold: {BreakerThreshold}, window: 1h }}\n");

    /// <summary>A workload from a seed: the same seed always gives the same workload.</summary>
    public static PlanWorkload Generate(int seed, DateTimeOffset now)
    {
        var random = new Random(seed);
        var users = new List<object>();
        var accounts = new Dictionary<string, List<string>>();
        foreach (var provider in ProviderNames)
        {
            var count = random.Next(4, 14);
            var names = new List<string>();
            for (var i = 0; i < count; i++)
            {
                var name = $"{provider}-user{i:D2}";
                names.Add(name);
                var admin = i < 3 && random.Next(3) > 0;
                users.Add(provider switch
                {
                    "ad" => new { provider, id = $"{provider}-{i:D4}", name, upn = $"{name}@corp.example.com", groups = admin ? new[] { "Domain Admins" } : ["Domain Users"], enabled = random.Next(10) > 0 },
                    "entra" => (object)new { provider, id = $"{provider}-{i:D4}", name = $"{name}@corp.example.com", upn = $"{name}@corp.example.com", roles = admin ? new[] { "Global Administrator" } : [] },
                    _ => new { provider, id = $"{provider}-{i:D4}", name = $"{name}@corp.example.com", roles = admin ? new[] { "SUPER_ADMIN" } : [] },
                });
            }

            accounts[provider] = names;
        }

        var snapshot = JsonSerializer.Serialize(new
        {
            version = 1,
            generated_at = now.AddHours(-2).ToString("yyyy-MM-ddTHH:mm:ssZ", CultureInfo.InvariantCulture),
            groups = new[] { new { provider = "ad", name = "Domain Admins" }, new { provider = "ad", name = "Domain Users" } },
            users,
        });

        string Limits(bool cooldown) => random.Next(3) switch
        {
            0 => cooldown ? "limits: { cooldown: 1h }\n" : "",
            1 => string.Create(CultureInfo.InvariantCulture, $"limits: {{ max_per_hour: {random.Next(1, 6)}{(cooldown ? ", cooldown: 1h" : "")} }}\n"),
            _ => string.Create(CultureInfo.InvariantCulture, $"limits: {{ max_per_hour: {random.Next(2, 10)} }}\n"),
        };

        var rules = new List<(string, string)>
        {
            // Two rules with the same action on the same finding type: the second is pending remediation.
            ("rules/gen/gen-ad-reset.yaml", Rule("gen-ad-reset", "compromised", "ad", "  - action: reset_password", Limits(cooldown: true))),
            ("rules/gen/gen-ad-disable.yaml", Rule("gen-ad-disable", "compromised", "ad", "  - action: disable_user\n  - action: reset_password", Limits(cooldown: false))),
            ("rules/gen/gen-entra.yaml", Rule("gen-entra", "risky_user", "entra", "  - action: revoke_sessions\n  - action: mark_compromised", Limits(cooldown: true))),
            ("rules/gen/gen-entra-disable.yaml", Rule("gen-entra-disable", "risky_user", "entra", "  - action: disable_user", Limits(cooldown: false))),
            ("rules/gen/gen-okta.yaml", Rule("gen-okta", "session_hijack", "okta", "  - action: revoke_sessions\n  - action: reset_password", Limits(cooldown: true))),
            // A non-destructive action no other rule takes: its repeats on an account meet the rule's cooldown.
            ("rules/gen/gen-entra-mfa.yaml", Rule("gen-entra-mfa", "risky_user", "entra", "  - action: enforce_mfa", "limits: { cooldown: 1h }")),
            ("rules/gen/gen-okta-revoke.yaml", Rule("gen-okta-revoke", "session_hijack", "okta", "  - action: revoke_sessions", "limits: { cooldown: 1h }")),
        };

        var types = new Dictionary<string, string> { ["ad"] = "compromised", ["entra"] = "risky_user", ["okta"] = "session_hijack" };
        var findings = new StringBuilder();
        var findingCount = random.Next(15, 60);
        var last = new Dictionary<string, string>();
        for (var i = 0; i < findingCount; i++)
        {
            var provider = ProviderNames[random.Next(ProviderNames.Length)];
            var names = accounts[provider];
            var name = random.Next(12) == 0 ? $"{provider}-nobody{i}" // some resolve to nobody
                : random.Next(3) == 0 && last.TryGetValue(provider, out var previous) ? previous // repeats meet cooldowns and in-flight checks
                : names[random.Next(names.Count)];
            last[provider] = name;
            var subjectName = provider == "ad" ? name : $"{name}@corp.example.com";
            findings.AppendLine(JsonSerializer.Serialize(new
            {
                id = string.Create(CultureInfo.InvariantCulture, $"gen-{seed}-{i:D3}"),
                source = "gen",
                kind = "detection",
                type = types[provider],
                severity = random.Next(4) == 0 ? "medium" : "high",
                observed_at = now.AddMinutes(-random.Next(5, 120)).ToString("yyyy-MM-ddTHH:mm:ssZ", CultureInfo.InvariantCulture),
                subject = new { provider, name = subjectName },
            }));
        }

        return new PlanWorkload(snapshot, rules, findings.ToString(), BreakerThreshold: random.Next(4, 25), OktaPerHour: random.Next(2, 12),
            EntraPerHour: random.Next(3, 15), LockoutMinimum: random.Next(1, 3));
    }

    private static string Rule(string id, string type, string provider, string actions, string limits) =>
        RuleFiles.Rule(id, actions: actions, providers: $"[{provider}]", types: $"[{type}]", extra: limits.TrimEnd('\n'));
}
