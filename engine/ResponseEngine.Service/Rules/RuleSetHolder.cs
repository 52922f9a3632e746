using System.Collections.Immutable;
using System.Security.Cryptography;
using System.Text;
using Microsoft.Extensions.Logging;
using ResponseEngine.Policy.Rules;
using ResponseEngine.Policy.Testing;
using ResponseEngine.Rules;
using ResponseEngine.Service.Operations;

namespace ResponseEngine.Service.Rules;

/// <summary>A rule set that was tried and refused: when, why (every error and failing test), and which files it was.</summary>
public sealed record ReloadFailure(DateTimeOffset At, string Fingerprint, ImmutableArray<string> Problems);

/// <summary>The rule set running now, what it was loaded from, and the last reload that was refused (if it is still the latest attempt).</summary>
public sealed record RulesState(RuleSet? Rules, int Count, string? Fingerprint, string? GitCommit, DateTimeOffset? LoadedAt, ReloadFailure? LastFailure);

/// <summary>
/// Holds the running rule set and replaces it only with a set that loads without errors and whose inline tests all
/// pass; otherwise the last good set keeps running and the refusal is kept for /readyz and logged. A batch takes the
/// set once at its start, so a reload never changes the rules in the middle of a run.
/// </summary>
public sealed class RuleSetHolder(string directory, TimeProvider time, ILogger<RuleSetHolder> log, ServiceMetrics metrics)
{
    private readonly Lock _lock = new();
    private RulesState _state = new(null, 0, null, null, null, null);

    public string Directory { get; } = directory;

    public RulesState State
    {
        get
        {
            lock (_lock) return _state;
        }
    }

    public RuleSet? Current => State.Rules;

    /// <summary>Loads the folder if its files changed since the last attempt (or always with <paramref name="force"/>); true when a new set is running.</summary>
    public bool Reload(bool force = false)
    {
        var fingerprint = Fingerprint(Directory);
        var state = State;
        if (!force && (fingerprint == state.Fingerprint || fingerprint == state.LastFailure?.Fingerprint)) return false;

        var load = RuleLoader.Default(time).LoadDirectory(Directory);
        var problems = load.Diagnostics.Where(d => d.IsError).Select(d => d.ToString()).ToList();
        if (load.RuleSet is not null)
        {
            foreach (var failed in new RuleTestRunner(Identities.PrivilegedPolicy.Default).Run(load.Rules).Where(r => !r.Passed))
            {
                problems.Add($"{failed.Test.Location}: test '{failed.Test.Name}' of rule {failed.Rule.Id} fails: expected {List(failed.Expected)}, got {List(failed.Actual)}{(failed.Problem is null ? "" : "; " + failed.Problem)}");
            }
        }

        if (load.RuleSet is null || problems.Count > 0)
        {
            var failure = new ReloadFailure(time.GetUtcNow(), fingerprint, [.. problems]);
            lock (_lock) _state = _state with { LastFailure = failure };
            metrics.Reload(applied: false);
            log.LogError("rules in {Directory} refused ({Count} problems); {Running}: {Problems}", Directory, problems.Count,
                state.Rules is null ? "no rules are running" : $"the last good set ({state.Count} rules, {state.Fingerprint?[..12]}) keeps running",
                string.Join(" | ", problems.Take(20)));
            return false;
        }

        lock (_lock) _state = new RulesState(load.RuleSet, load.Rules.Length, fingerprint, load.RuleSet.GitCommit, time.GetUtcNow(), null);
        metrics.Reload(applied: true);
        log.LogInformation("rules loaded from {Directory}: {Count} rules, fingerprint {Fingerprint}, commit {Commit}", Directory, load.Rules.Length, fingerprint[..12], load.RuleSet.GitCommit ?? "(none)");
        return true;
    }

    /// <summary>A hash of every rule file's path and content, so an unchanged folder is not reloaded and a refused set is not retried until it changes.</summary>
    public static string Fingerprint(string directory)
    {
        using var hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        if (System.IO.Directory.Exists(directory))
        {
            foreach (var file in System.IO.Directory.EnumerateFiles(directory, "*.*", SearchOption.AllDirectories)
                         .Where(f => f.EndsWith(".yaml", StringComparison.OrdinalIgnoreCase) || f.EndsWith(".yml", StringComparison.OrdinalIgnoreCase))
                         .Order(StringComparer.Ordinal))
            {
                hash.AppendData(Encoding.UTF8.GetBytes(Path.GetRelativePath(directory, file) + "\0"));
                try
                {
                    hash.AppendData(File.ReadAllBytes(file));
                }
                catch (Exception e) when (e is IOException or UnauthorizedAccessException)
                {
                    hash.AppendData(Encoding.UTF8.GetBytes("unreadable:" + e.Message));
                }
            }
        }

        return Convert.ToHexStringLower(hash.GetHashAndReset());
    }

    private static string List(IReadOnlyCollection<string> actions) => actions.Count == 0 ? "(no actions)" : string.Join(", ", actions);
}
