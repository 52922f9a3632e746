using System.Collections.Immutable;
using CsCheck;
using Microsoft.Extensions.Time.Testing;
using ResponseEngine.Actions;
using ResponseEngine.Audit;
using ResponseEngine.Configuration;
using ResponseEngine.Execution;
using ResponseEngine.Findings;
using ResponseEngine.Planning;
using ResponseEngine.Rules;
using ResponseEngine.TestKit;

namespace ResponseEngine.Core.Tests;

/// <summary>
/// The shortcuts of a plan's guard phase (#23) give the full answer: the dedupe guard's in-run check compares what the
/// idempotency key is hashed from instead of the SHA-256 keys, and <see cref="GuardView"/> answers every rate-limit and
/// breaker count with 0 when there is no intent from the window's start, without counting the scope. Generated inputs,
/// the full answer computed beside the shortcut.
/// </summary>
public sealed class PlanShortcutPropertyTests
{
    private static readonly CancellationToken Ct = TestContext.Current.CancellationToken;

    // Few values, with the key's separator inside some, so that equal and near-equal keys are common.
    private static readonly Gen<string> Part = Gen.OneOf("a", "b", "a\u001fb", "\u001f", "", "é");

    private static readonly Lazy<ImmutableArray<Rule>> Rules = new(() =>
    {
        var rule = RuleFiles.Load(RuleFiles.Rule("r1")).RuleSet?.Rules[0] ?? throw new InvalidOperationException("the test rule does not load");
        return [rule, rule with { Id = "r2" }, rule with { Id = "r1\u001f" }];
    });

    private static readonly Gen<Decision> Decisions =
        Gen.Select(Gen.Select(Part, Part, Part, Part), Gen.Select(Gen.Int[0, 2], Gen.Bool, Gen.Bool, Gen.Int[0, 1]))
            .Select((parts, shape) =>
            {
                var (source, id, name, parameter) = parts;
                var (ruleIndex, resolved, withParameter, hashIndex) = shape;
                var rule = Rules.Value[ruleIndex];
                rule = rule with { Source = rule.Source with { ContentHash = hashIndex == 0 ? "h0" : "h0\u001f" } };
                var finding = Build.Finding(name: name == "" ? "n" : name, id: id == "" ? null : id) with { Source = source == "" ? "s" : source };
                var parameters = withParameter ? ActionParameters.Empty.With("reason", parameter) : ActionParameters.Empty;
                return new Decision(finding, rule, resolved ? Build.Identity(name == "" ? "n" : name) : null, rule.Actions[0].Action, parameters);
            });

    [Fact]
    public async Task PassedSameKey_GeneratedDecisions_AnswersAsTheHashedKeys()
    {
        var same = 0;
        await Gen.Select(Decisions.Array[1, 30], Gen.Bool.Array[30], Gen.Bool).SampleAsync(async sample =>
        {
            var (decisions, pass, dryRun) = sample;
            await using var store = new MemoryAuditStore(new FakeTimeProvider(Build.Now));
            var run = new RunContext("run", new EngineOptions(), store, new Dictionary<Provider, IConnector>(), new FakeTimeProvider(Build.Now), dryRun, "t", "h", "v");
            var keys = new HashSet<string>(StringComparer.Ordinal);
            for (var i = 0; i < decisions.Length; i++)
            {
                var full = keys.Contains(IdempotencyKey.For(decisions[i]));
                run.PassedSameKey(decisions[i]).Should().Be(full, $"decision {i} ({IdempotencyKey.Text(decisions[i])})");
                if (full) same++;
                if (!pass[i]) continue;
                run.Pass(decisions[i]);
                keys.Add(IdempotencyKey.For(decisions[i]));
            }
        }, iter: 300, threads: 1);

        same.Should().BeGreaterThan(0, "the generator makes equal keys");
    }

    [Fact]
    public async Task GuardViewCounts_GeneratedTrails_AnswerAsTheStoresCount()
    {
        // Trails of none to a few rows: intents and other statuses, dry-run or not, before, at and inside the window's
        // start; each scope counted through a fresh view (the shortcut when nothing is there) and by the store.
        var row = Gen.Select(Gen.Int[0, 3], Gen.Bool, Gen.Int[-90, 90], Gen.Select(Gen.OneOf("r1", "r2"), Gen.OneOf("disable_user", "revoke_sessions"), Gen.OneOf("ad", "entra"), Gen.Bool));
        var scope = Gen.Select(Gen.OneOf<string?>(null, "r1", "r2"), Gen.OneOf<string?>(null, "disable_user"), Gen.OneOf<string?>(null, "ad"), Gen.OneOf<bool?>(null, true, false));
        var zeros = 0;
        await Gen.Select(row.Array[0, 6], scope.Array[1, 6], Gen.Int[-60, 60]).SampleAsync(async sample =>
        {
            var (rows, scopes, sinceOffset) = sample;
            var clock = new FakeTimeProvider(Build.Now);
            await using var store = new MemoryAuditStore(clock);
            var start = clock.GetUtcNow() + TimeSpan.FromSeconds(90);
            foreach (var (status, dryRun, minutes, (rule, action, provider, destructive)) in rows.OrderBy(r => r.Item3))
            {
                clock.SetUtcNow(start + TimeSpan.FromSeconds(minutes));
                await store.AppendAsync(new AuditEntry
                {
                    RunId = "hist", Host = "h", EngineVersion = "0", Actor = "gen", DryRun = dryRun,
                    Status = status == 0 ? AuditStatus.Intended : status == 1 ? AuditStatus.Succeeded : status == 2 ? AuditStatus.Skipped : AuditStatus.DryRun,
                    RuleId = rule, Action = action, Provider = provider, IdentityId = "u", Destructive = destructive,
                }, Ct);
            }

            var since = start + TimeSpan.FromSeconds(sinceOffset);
            var view = new GuardView(store, []);
            foreach (var (rule, action, provider, destructive) in scopes)
            {
                var full = await store.CountAsync(new AuditQuery
                {
                    Since = since, Statuses = [AuditStatus.Intended], DryRun = false, RuleId = rule, Action = action, Provider = provider, Destructive = destructive,
                }, Ct);
                (await view.CountIntentsAsync(rule, action, provider, destructive, since, Ct)).Should().Be(full, $"scope {rule}/{action}/{provider}/{destructive} since {sinceOffset} s");
                if (full == 0) zeros++;
            }
        }, iter: 400, threads: 1);

        zeros.Should().BeGreaterThan(0);
    }
}
