using System.Globalization;
using System.Text;
using System.Text.Json.Nodes;
using ResponseEngine.Identities;

namespace ResponseEngine.Benchmarks.Executor;

/// <summary>
/// `--write-local-run DIR --users N --findings M`: the inputs of `respond run --once` on the local directory at scale
/// (bench/local-run.sh times the real CLI on them). N users, 40% AD, 40% Entra ID, 20% Okta, each provider with a few
/// holders of its critical sets (nested AD groups, Entra roles, Okta SUPER_ADMIN) so that the lockout guard counts them
/// for every action; M findings (account_takeover) on M distinct ordinary users, by id; one rule disabling the account;
/// respond.yaml with SQLite audit and limits high enough that every decision is acted on.
/// </summary>
public static class LocalRunWorkload
{
    public static int Run(string[] args)
    {
        var dir = Arg(args, "--write-local-run") ?? throw new ArgumentException("--write-local-run DIR");
        var users = int.Parse(Arg(args, "--users") ?? "10000", CultureInfo.InvariantCulture);
        var findings = int.Parse(Arg(args, "--findings") ?? "10000", CultureInfo.InvariantCulture);
        if (findings > users - 100) throw new ArgumentException("--findings must leave at least 100 users untouched");
        Directory.CreateDirectory(Path.Combine(dir, "rules"));

        var groups = new JsonArray(
            new JsonObject { ["provider"] = "ad", ["id"] = "ad-da", ["name"] = "Domain Admins" },
            new JsonObject { ["provider"] = "ad", ["id"] = "ad-t0", ["name"] = "Tier0 Operators", ["member_of"] = new JsonArray("Domain Admins") },
            new JsonObject { ["provider"] = "ad", ["id"] = "ad-du", ["name"] = "Domain Users" },
            new JsonObject { ["provider"] = "ad", ["id"] = "ad-vpn", ["name"] = "VPN Users" },
            new JsonObject { ["provider"] = "entra", ["id"] = "en-all", ["name"] = "All Staff" },
            new JsonObject { ["provider"] = "okta", ["id"] = "ok-every", ["name"] = "Everyone", ["okta_type"] = "BUILT_IN" });
        var list = new JsonArray();
        for (var i = 0; i < users; i++)
        {
            var provider = (i % 5) switch { 0 or 1 => "ad", 2 or 3 => "entra", _ => "okta" };
            var admin = i < 100 && i % 5 is 0 or 2 or 4; // the first 100 users hold the critical sets
            var user = new JsonObject { ["provider"] = provider, ["id"] = Id(i), ["name"] = $"user{i}", ["upn"] = $"user{i}@corp.example.com" };
            switch (provider)
            {
                case "ad":
                    user["groups"] = admin ? new JsonArray("Domain Users", i % 2 == 0 ? "Tier0 Operators" : "Domain Admins") : new JsonArray("Domain Users", "VPN Users");
                    break;
                case "entra":
                    user["groups"] = new JsonArray("All Staff");
                    if (admin) user["roles"] = new JsonArray("Global Administrator");
                    break;
                default:
                    user["groups"] = new JsonArray("Everyone");
                    if (admin) user["roles"] = new JsonArray("SUPER_ADMIN");
                    break;
            }

            list.Add(user);
        }

        File.WriteAllBytes(Path.Combine(dir, "directory.json"), SnapshotFormat.Write(new JsonObject { ["version"] = 1, ["groups"] = groups, ["users"] = list }));
        var text = new StringBuilder();
        for (var f = 0; f < findings; f++)
        {
            var i = 100 + f;
            var provider = (i % 5) switch { 0 or 1 => "ad", 2 or 3 => "entra", _ => "okta" };
            text.Append(CultureInfo.InvariantCulture,
                $$"""{"id":"f{{f}}","source":"bench","kind":"detection","type":"account_takeover","severity":"high","observed_at":"2026-11-20T08:00:00Z","subject":{"provider":"{{provider}}","id":"{{Id(i)}}"},"title":"bench"}""").Append('\n');
        }

        File.WriteAllText(Path.Combine(dir, "findings.ndjson"), text.ToString());
        File.WriteAllText(Path.Combine(dir, "rules", "takeover.yaml"), """
            id: takeover-disable
            title: Disable an account taken over
            owner: bench
            mode: enforce
            match: { types: [account_takeover], providers: [ad, entra, okta] }
            actions:
              - action: disable_user
            """);
        File.WriteAllText(Path.Combine(dir, "respond.yaml"), """
            rules: rules
            findings: [findings.ndjson]
            audit: { store: sqlite, connection: respond.db }
            local: { snapshot: directory.json, working_copy: state/directory.json }
            guards:
              rate_limits: { global_per_hour: 1000000 }
              breaker: { threshold: 1000000 }
            """);
        Console.WriteLine($"wrote {dir}: {users} users, {findings} findings");
        return 0;
    }

    private static string Id(int i) => "u" + i.ToString("D7", CultureInfo.InvariantCulture);

    private static string? Arg(string[] args, string name) => args.SkipWhile(a => a != name).Skip(1).FirstOrDefault();
}
