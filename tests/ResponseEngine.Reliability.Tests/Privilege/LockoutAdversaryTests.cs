using System.Globalization;
using System.Runtime.CompilerServices;
using CsCheck;

namespace ResponseEngine.Reliability.Tests.Privilege;

/// <summary>
/// Issue #16's acceptance heart: generated directory graphs (nesting to depth five, cycles, AD primary groups, Entra
/// role-assignable groups and Okta groups holding roles, disabled holders, break-glass and engine accounts, protected
/// groups) and rules of destructive actions aimed at them, run through the real executor with one to three concurrent
/// runs on one SQLite store and one local directory. After every case, computed by the test's own reachability: every
/// critical set keeps its minimum of usable holders, nothing protected is touched, every effect had exactly one intent
/// before it and one outcome, nothing acts twice. A failure names the CsCheck seed and prints the smallest failing case
/// (graph, rules, runs) with its violations and audit trail.
/// RESPOND_ADVERSARY_CASES=N sets the cases per in-process property (default 150 to 450, 2,250 in all; RESPOND_RELIABILITY_LONG=1: ×20),
/// RESPOND_ADVERSARY_PROCESS_CASES=N the child-process cases (default 20), RESPOND_ADVERSARY_SEED=S (or CsCheck_Seed) replays one seed.
/// RESPOND_ADVERSARY_CENSUS=FILE does not stop at a violation but appends every one to FILE (property, kind, text), to count them.
/// </summary>
public sealed class LockoutAdversaryTests
{
    private const string Area = "privilege-adversary";
    private static readonly Lock CensusGate = new();

    [Fact]
    public Task Run_NestedGroupsAndCycles_CriticalSetsKeepMinimumAndEveryEffectOnce() =>
        PropertyAsync(nameof(Run_NestedGroupsAndCycles_CriticalSetsKeepMinimumAndEveryEffectOnce), Features.Nesting, Checks.Safety, Cases(450));

    /// <summary>Primary groups that are critical groups (Domain Admins nested in Administrators), without nested tier groups.</summary>
    [Fact]
    public Task Run_AdPrimaryGroups_CriticalSetsKeepMinimum() =>
        PropertyAsync(nameof(Run_AdPrimaryGroups_CriticalSetsKeepMinimum), (Features.Nesting with { PrimaryGroups = true, NestedTiers = false }), Checks.Safety, Cases(300));

    /// <summary>Entra role-assignable groups and Okta groups holding critical roles, PIM-eligible roles, without nested AD tier groups.</summary>
    [Fact]
    public Task Run_RolesHeldThroughGroups_CriticalSetsKeepMinimum() =>
        PropertyAsync(nameof(Run_RolesHeldThroughGroups_CriticalSetsKeepMinimum), (Features.Nesting with { GroupRoles = true, NestedTiers = false }), Checks.Safety, Cases(300));

    /// <summary>Without nested tier groups, so that this property looks at the break-glass count alone.</summary>
    [Fact]
    public Task Run_BreakGlassHolders_NotCountedTowardMinimum() =>
        PropertyAsync(nameof(Run_BreakGlassHolders_NotCountedTowardMinimum), (Features.Nesting with { BreakGlassHolders = true, NestedTiers = false }), Checks.Safety, Cases(250));

    [Fact]
    public Task Run_AllFeatures_CriticalSetsKeepMinimumAndEveryEffectOnce() =>
        PropertyAsync(nameof(Run_AllFeatures_CriticalSetsKeepMinimumAndEveryEffectOnce), Features.All, Checks.Safety, Cases(450));

    /// <summary>
    /// Every feature and every check, and no failure at all: AD reset_password with set_random (a holder with a random
    /// password nobody knows is not usable, in later runs too); remove_role_assignment of a role also held through a group;
    /// Okta actions on LOCKED_OUT or PASSWORD_EXPIRED accounts, or on accounts another run changed between resolve and act
    /// (refused, or a no-op with the state found, never failed nor succeeded without a change).
    /// </summary>
    [Fact]
    public Task Run_EveryFeatureAndCheck_NoViolation() =>
        PropertyAsync(nameof(Run_EveryFeatureAndCheck_NoViolation), Features.All, Checks.Safety with { NoFailures = true }, Cases(200));

    [Fact]
    public Task Run_RepeatFindingFromAnotherSource_OneIntentPerChange() =>
        PropertyAsync(nameof(Run_RepeatFindingFromAnotherSource_OneIntentPerChange), Features.Nesting, Checks.ExactlyOnceOnly with { OneIntentPerChange = true }, Cases(150));

    [Fact]
    public Task Run_LaterDecisionOnStaleState_RefusedNotFailed() =>
        PropertyAsync(nameof(Run_LaterDecisionOnStaleState_RefusedNotFailed), Features.Nesting, Checks.ExactlyOnceOnly with { NoFailures = true }, Cases(150));

    [Fact]
    public Task RunOnce_ConcurrentProcesses_CriticalSetsKeepMinimumAndEveryEffectOnce() =>
        PropertyAsync(nameof(RunOnce_ConcurrentProcesses_CriticalSetsKeepMinimumAndEveryEffectOnce), Features.All, Checks.Safety,
            Count("RESPOND_ADVERSARY_PROCESS_CASES", 20), threads: 1, AdversaryHarness.ProcessesAsync);

    private static long Cases(int normal) => Count("RESPOND_ADVERSARY_CASES", normal);

    private static long Count(string variable, int normal) =>
        long.TryParse(Environment.GetEnvironmentVariable(variable), CultureInfo.InvariantCulture, out var n) && n > 0 ? n : Reliability.Inputs(normal);

    private static async Task PropertyAsync(string name, Features features, Checks checks, long cases, int threads = 2,
        Func<AdversaryCase, string, CancellationToken, Task<CaseOutcome>>? run = null)
    {
        run ??= AdversaryHarness.InProcessAsync;
        var cancel = TestContext.Current.CancellationToken;
        var figures = new Figures();
        var reports = new ConditionalWeakTable<AdversaryCase, string>();
        try
        {
            await GraphGen.Case(features).SampleAsync(
                async c =>
                {
                    using var folder = Reliability.ScratchDirectory();
                    var outcome = await run(c, folder.Path, cancel);
                    var violations = Invariants.Check(c, outcome, checks);
                    figures.Add(c, outcome, violations.Count);
                    if (violations.Count == 0) return;
                    if (Environment.GetEnvironmentVariable("RESPOND_ADVERSARY_CENSUS") is { Length: > 0 } census)
                    {
                        // Census: every violating case is counted (one line per violation) instead of stopping at the first.
                        lock (CensusGate) File.AppendAllLines(census, violations.Select(v => $"{name}\t{v.Split(':')[0]}\t{v}"));
                        return;
                    }

                    var report = string.Join('\n', violations) + "\naudit trail:\n" + Invariants.Trail(outcome);
                    reports.AddOrUpdate(c, report);
                    throw new InvariantViolationException(report);
                },
                writeLine: line => TestContext.Current.TestOutputHelper?.WriteLine(line),
                seed: Environment.GetEnvironmentVariable("RESPOND_ADVERSARY_SEED"),
                iter: cases,
                threads: threads,
                print: c => "\n" + CaseFiles.Render(c) + (reports.TryGetValue(c, out var report) ? "violations:\n" + report : ""));
        }
        finally
        {
            Reliability.Record(Area, $"{name} features={features} {figures}");
        }
    }

    /// <summary>What a property tried, for docs/reliability.md.</summary>
    private sealed class Figures
    {
        private readonly Lock _gate = new();
        private readonly int[] _runs = new int[4];
        private int _cases;
        private int _depth;
        private int _decisions;
        private int _intents;
        private int _effects;
        private int _lockoutRefusals;
        private int _violatingCases;

        public void Add(AdversaryCase c, CaseOutcome o, int violations)
        {
            lock (_gate)
            {
                _cases++;
                _runs[Math.Min(c.Runs.Length, 3)]++;
                _depth = Math.Max(_depth, c.NestingDepth);
                _decisions += o.Trail.Count(r => r.Entry.IntentSequence is null);
                _intents += o.Trail.Count(r => r.Entry.Status == Audit.AuditStatus.Intended);
                _effects += o.Effects?.Count ?? 0;
                _lockoutRefusals += o.Trail.Count(r => r.Entry.Guard == "lockout_protection");
                if (violations > 0) _violatingCases++;
            }
        }

        public override string ToString()
        {
            lock (_gate)
            {
                return $"cases={_cases} max-nesting={_depth} concurrent-runs 1:{_runs[1]} 2:{_runs[2]} 3:{_runs[3]} decisions={_decisions} intents={_intents} "
                    + $"effects={_effects} lockout-refusals={_lockoutRefusals} violating-cases={_violatingCases}";
            }
        }
    }
}

/// <summary>An invariant did not hold for a generated case; the message lists every violation and the audit trail.</summary>
public sealed class InvariantViolationException(string message) : Exception(message);
