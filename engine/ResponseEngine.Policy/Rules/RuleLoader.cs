using System.Collections.Immutable;
using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using System.Text.RegularExpressions;
using ResponseEngine.Actions;
using ResponseEngine.Diagnostics;
using ResponseEngine.Findings;
using ResponseEngine.Identities;
using ResponseEngine.Policy.Conditions;
using ResponseEngine.Policy.Yaml;
using ResponseEngine.Rules;
using Group = ResponseEngine.Identities.Group;

namespace ResponseEngine.Policy.Rules;

/// <summary>
/// The outcome of loading a rules folder: the rule set when there are no errors, and the diagnostics (at most the first
/// <see cref="DiagnosticLimit.PerFile"/> of each file, then one RE0016 line counting the rest).
/// </summary>
public sealed record RuleLoad(RuleSet? RuleSet, ImmutableArray<Rule> Rules, ImmutableArray<Diagnostic> Diagnostics, int FileCount)
{
    /// <summary>Errors beyond the per-file limit, counted by an RE0016 line instead of listed.</summary>
    public int HiddenErrors { get; init; }

    /// <summary>Warnings beyond the per-file limit.</summary>
    public int HiddenWarnings { get; init; }

    /// <summary>Rules whose file has no error: the count a summary may call valid (a rule read whole but with a bad test or a duplicate id is not).</summary>
    public int ValidRuleCount { get; init; }

    /// <summary>Rule files with at least one error, so a summary never calls a broken set "valid".</summary>
    public int InvalidFileCount { get; init; }

    public bool HasErrors => Diagnostics.Any(d => d.IsError);

    /// <summary>Every error of the rule set, listed or counted.</summary>
    public int ErrorCount => Diagnostics.Count(d => d.IsError && d.Code != DiagnosticCodes.TooManyProblems) + HiddenErrors;

    /// <summary>Every warning of the rule set, listed or counted.</summary>
    public int WarningCount => Diagnostics.Count(d => !d.IsError && d.Code != DiagnosticCodes.TooManyProblems) + HiddenWarnings;
}

/// <summary>
/// Loads <c>rules/**/*.yaml</c>: every file is read and checked, and every error of the whole set is reported in one
/// run; a rule set with any error is not used.
/// </summary>
public sealed partial class RuleLoader
{
    public static readonly IReadOnlyList<string> RuleKeys = ["id", "title", "description", "owner", "mode", "expires", "match", "when", "actions", "limits", "approval", "tests"];
    private static readonly string[] MatchKeys = ["types", "providers", "min_severity"];
    private static readonly string[] ActionKeys = ["action", "with", "on"];
    private static readonly string[] LimitKeys = ["max_per_hour", "cooldown"];
    private static readonly string[] TestKeys = ["name", "finding", "identity", "linked", "expect"];
    private static readonly string[] TestFindingKeys = ["id", "source", "kind", "type", "severity", "observed_at", "subject", "title", "attributes"];
    private static readonly string[] TestIdentityKeys = ["provider", "id", "name", "upn", "email", "display_name", "enabled", "guest", "privileged", "groups", "roles", "tags"];
    private static readonly string[] TestGroupKeys = ["name", "dynamic", "synced", "okta_type"];
    private static readonly string[] Modes = ["enforce", "observe", "disabled"];
    private static readonly string[] Approvals = ["none", "required"];
    private static readonly DateTimeOffset TestTime = new(2026, 1, 1, 0, 0, 0, TimeSpan.Zero);

    private readonly ActionCatalogue _catalogue;
    private readonly PrivilegedPolicy _policy;
    private readonly TimeProvider _time;

    public RuleLoader(ActionCatalogue catalogue, PrivilegedPolicy policy, TimeProvider time)
    {
        _catalogue = catalogue;
        _policy = policy;
        _time = time;
    }

    public static RuleLoader Default(TimeProvider time) => new(ActionCatalogue.Default, PrivilegedPolicy.Default, time);

    /// <summary>Loads every .yaml/.yml file under <paramref name="directory"/>, recursively, in path order (or the one rule file it names).</summary>
    public RuleLoad LoadDirectory(string directory)
    {
        var bag = new DiagnosticBag();
        if (File.Exists(directory))
        {
            return LoadFile(directory, bag);
        }

        if (!Directory.Exists(directory))
        {
            bag.Error(DiagnosticCodes.FileUnreadable, SourceLocation.FileOnly(directory), "rules folder does not exist", "pass --rules with the folder that holds your rule files");
            return new RuleLoad(null, [], [.. bag.Items], 0);
        }

        var files = Directory.EnumerateFiles(directory, "*.*", SearchOption.AllDirectories)
            .Where(f => f.EndsWith(".yaml", StringComparison.OrdinalIgnoreCase) || f.EndsWith(".yml", StringComparison.OrdinalIgnoreCase))
            .Select(f => Path.Join(directory, Path.GetRelativePath(directory, f)))
            .Order(StringComparer.Ordinal)
            .ToList();
        var sources = new List<(string File, byte[] Bytes)>();
        foreach (var file in files)
        {
            try
            {
                sources.Add((file, File.ReadAllBytes(file)));
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                bag.Error(DiagnosticCodes.FileUnreadable, SourceLocation.FileOnly(file), $"cannot read rule file: {e.Message}");
            }
        }

        if (files.Count == 0)
        {
            bag.Warning(DiagnosticCodes.FileUnreadable, SourceLocation.FileOnly(directory), "no rule files (*.yaml) found");
        }

        var commit = GitInfo.HeadCommit(directory);
        return Load(sources, commit, bag, commit is null ? [] : GitInfo.UncommittedFiles(directory));
    }

    /// <summary>`--rules file.yaml`: one rule file on its own, as an author checks the rule they are writing.</summary>
    private RuleLoad LoadFile(string file, DiagnosticBag bag)
    {
        if (!file.EndsWith(".yaml", StringComparison.OrdinalIgnoreCase) && !file.EndsWith(".yml", StringComparison.OrdinalIgnoreCase))
        {
            bag.Error(DiagnosticCodes.FileUnreadable, SourceLocation.FileOnly(file), "--rules names a file that is not a rule file (*.yaml or *.yml)",
                $"pass the rule file itself or the folder that holds your rule files, e.g. --rules {(Path.GetDirectoryName(file) is { Length: > 0 } parent ? parent : ".")}");
            return new RuleLoad(null, [], [.. bag.Items], 0);
        }

        byte[] bytes;
        try
        {
            bytes = File.ReadAllBytes(file);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            bag.Error(DiagnosticCodes.FileUnreadable, SourceLocation.FileOnly(file), $"cannot read rule file: {e.Message}");
            return new RuleLoad(null, [], [.. bag.Items], 1);
        }

        var folder = Path.GetDirectoryName(Path.GetFullPath(file))!;
        var commit = GitInfo.HeadCommit(folder);
        var uncommitted = commit is null ? [] : GitInfo.UncommittedFiles(folder);
        return Load([(file, bytes)], commit, bag, uncommitted);
    }

    /// <summary>Loads rules from in-memory files (tests, `plan --base`).</summary>
    /// <param name="uncommittedFiles">Files under the rules folder that differ from <paramref name="gitCommit"/>: each rule then records the commit as "…+dirty".</param>
    public RuleLoad Load(IReadOnlyList<(string File, byte[] Bytes)> sources, string? gitCommit, DiagnosticBag? bag = null, IReadOnlyCollection<string>? uncommittedFiles = null)
    {
        bag ??= new DiagnosticBag();
        uncommittedFiles ??= [];
        var recorded = RuleSet.RecordedCommit(gitCommit, uncommittedFiles.Count > 0);
        var rules = new List<Rule>();
        foreach (var (file, bytes) in sources)
        {
            var rule = LoadFile(file, bytes, recorded, bag);
            if (rule is not null) rules.Add(rule);
        }

        foreach (var group in rules.GroupBy(r => r.Id, StringComparer.Ordinal).Where(g => g.Count() > 1))
        {
            var first = group.First();
            foreach (var duplicate in group.Skip(1))
            {
                bag.Error(DiagnosticCodes.DuplicateId, duplicate.Location, $"rule id '{duplicate.Id}' is already used by {first.Source.File}:{first.Location.Line}",
                    "give each rule a unique id (the file name without .yaml)");
            }
        }

        var limited = DiagnosticLimit.Apply(bag.Sorted());
        var set = bag.HasErrors ? null : new RuleSet(rules, gitCommit, uncommittedFiles);
        var brokenFiles = bag.Items.Where(d => d.IsError).Select(d => d.Location.File).ToHashSet(StringComparer.Ordinal);
        return new RuleLoad(set, [.. rules], limited.Shown, sources.Count)
        {
            HiddenErrors = limited.HiddenErrors,
            HiddenWarnings = limited.HiddenWarnings,
            ValidRuleCount = rules.Count(r => !brokenFiles.Contains(r.Source.File)),
            InvalidFileCount = sources.Count(s => brokenFiles.Contains(s.File)),
        };
    }

    private Rule? LoadFile(string file, byte[] bytes, string? gitCommit, DiagnosticBag bag)
    {
        string text;
        try
        {
            text = new UTF8Encoding(false, true).GetString(bytes);
        }
        catch (DecoderFallbackException)
        {
            bag.Error(DiagnosticCodes.FileUnreadable, SourceLocation.FileOnly(file), "rule file is not UTF-8 text");
            return null;
        }

        if (text.Length > 0 && text[0] == '\uFEFF') text = text[1..];
        var root = YamlDocumentReader.Read(text, file, bag);
        if (root is null)
        {
            if (!bag.Items.Any(d => d.Location.File == file))
                bag.Error(DiagnosticCodes.MissingField, new SourceLocation(file, 1, 1), "rule file is empty", "a rule needs at least id, title, owner, mode, match and actions");
            return null;
        }

        var errorsBefore = bag.Items.Count(d => d.IsError);
        var reader = MappingReader.Open(root, "the rule", RuleKeys, bag);
        if (reader is null) return null;
        var locator = new ScalarLocator(text);
        var hash = Convert.ToHexStringLower(SHA256.HashData(bytes));

        var id = reader.String("id", required: true, "add id: <kebab-case-name>, usually the file name");
        if (id is not null && !IdPattern().IsMatch(id))
        {
            bag.Error(DiagnosticCodes.InvalidId, reader.Scalar("id", false)!.Location, $"rule id '{id}' is not lower-case kebab-case", "use letters, digits and dashes, e.g. ad-weak-password-privileged");
        }
        else if (id is not null && Path.GetFileNameWithoutExtension(file) != id)
        {
            bag.Warning(DiagnosticCodes.IdFileMismatch, reader.Scalar("id", false)!.Location, $"rule id '{id}' differs from its file name '{Path.GetFileName(file)}'", $"rename the file to {id}.yaml");
        }

        var title = reader.String("title", required: true, "add title: a one-line summary reviewers read");
        var description = reader.String("description", required: false);
        var owner = reader.String("owner", required: true, "add owner: the team that answers for this rule");
        var modeText = reader.Choice("mode", required: true, Modes);
        var mode = modeText switch { "enforce" => RuleMode.Enforce, "disabled" => RuleMode.Disabled, _ => RuleMode.Observe };
        var expires = reader.Date("expires");
        if (expires is { } expiry && DateOnly.FromDateTime(_time.GetUtcNow().UtcDateTime) > expiry)
        {
            bag.Warning(DiagnosticCodes.RuleExpired, reader.Scalar("expires", false)!.Location, $"rule expired on {expiry:yyyy-MM-dd} and only observes", "renew or delete it");
        }

        var match = ReadMatch(reader, bag);
        var actions = ReadActions(reader, match?.Providers ?? [], bag, out var declared);
        ICondition? when = null;
        if (reader.Scalar("when", required: false) is { } whenScalar)
        {
            when = ConditionCompiler.Compile(whenScalar.Value, locator.For(whenScalar), bag);
        }

        var limits = ReadLimits(reader, bag);
        var approval = reader.Choice("approval", required: false, Approvals) == "required" ? ApprovalMode.Required : ApprovalMode.None;
        if (id is null || title is null || owner is null || modeText is null || match is null || actions is null
            || bag.Items.Count(d => d.IsError) > errorsBefore)
        {
            // Still check the tests' shape so every error of the file is reported at once.
            if (match is not null) ReadTests(reader, match, actions ?? [], declared, bag, checkOnly: true);
            return null;
        }

        var rule = new Rule(id, title, owner, mode, match, actions.Value, new RuleSource(file, hash, gitCommit), reader.Location)
        {
            Description = description,
            Expires = expires,
            When = when,
            Limits = limits,
            Approval = approval,
        };
        var testErrors = bag.Items.Count(d => d.IsError);
        var tests = ReadTests(reader, match, actions.Value, declared, bag, checkOnly: false);

        // A test that does not load is its own root error; counting the tests that remain would add a false RE1001.
        if (bag.Items.Count(d => d.IsError) == testErrors) CheckTestCoverage(rule, tests, reader, bag);
        return rule with { Tests = tests };
    }

    private static RuleMatch? ReadMatch(MappingReader rule, DiagnosticBag bag)
    {
        var reader = MappingReader.Open(rule.Node("match", required: true, "add match: { types: [...], providers: [...] }"), "'match'", MatchKeys, bag);
        if (reader is null) return null;
        var errors = bag.Items.Count(d => d.IsError);
        var types = reader.Strings("types", required: true, hint: "list the finding types, e.g. types: [weak_password]");
        foreach (var (type, location) in types ?? [])
        {
            if (!SnakeCase().IsMatch(type))
                bag.Error(DiagnosticCodes.InvalidValue, location, $"finding type '{type}' is not snake_case", "write it like weak_password");
        }

        var providers = ImmutableArray.CreateBuilder<Provider>();
        foreach (var (name, location) in reader.Strings("providers", required: true, hint: "list providers: [ad], [entra], [okta] or several") ?? [])
        {
            if (Providers.TryParse(name, out var provider))
            {
                if (!providers.Contains(provider)) providers.Add(provider);
            }
            else
            {
                bag.Error(DiagnosticCodes.UnknownProvider, location, $"unknown provider '{name}'", Suggest.DidYouMean(name, [.. Providers.Names]));
            }
        }

        var severity = Severity.Informational; // no min_severity: every severity
        var severityText = reader.Choice("min_severity", required: false, [.. Severities.Names], DiagnosticCodes.InvalidSeverity);
        if (severityText is not null && !Severities.TryParse(severityText, out severity)) return null;
        if (bag.Items.Count(d => d.IsError) > errors || types is null) return null;
        return new RuleMatch([.. types.Value.Select(t => t.Value).Distinct(StringComparer.Ordinal)], providers.ToImmutable(), severity);
    }

    /// <param name="declared">
    /// Every action name the rule writes, or null when one of them is not a usable action: then what the tests expect
    /// cannot be checked against the rule, and the wrong action is the one error.
    /// </param>
    private ImmutableArray<ActionInvocation>? ReadActions(MappingReader rule, ImmutableArray<Provider> providers, DiagnosticBag bag, out IReadOnlySet<string>? declared)
    {
        var names = new HashSet<string>(StringComparer.Ordinal);
        declared = null;
        var node = rule.Node("actions", required: true, "add actions: [ { action: disable_user } ] (see `respond actions`)");
        if (node is null) return null;
        if (node is not YSequence sequence)
        {
            bag.Error(DiagnosticCodes.WrongType, node.Location, $"'actions' must be a list, found {node.KindName}", "write each action as '- action: name'");
            return null;
        }

        if (sequence.Items.IsEmpty)
        {
            bag.Error(DiagnosticCodes.EmptyList, sequence.Location, "'actions' is empty", "a rule that does nothing belongs in mode: disabled, or add an action");
            return null;
        }

        var errors = bag.Items.Count(d => d.IsError);
        var usable = true;
        var invocations = ImmutableArray.CreateBuilder<ActionInvocation>();
        foreach (var item in sequence.Items)
        {
            if (item is YScalar { IsNull: false } bare)
            {
                bag.Error(DiagnosticCodes.WrongType, item.Location, $"write the action as '- action: {bare.Value}'");
                usable = false;
                continue;
            }

            var reader = MappingReader.Open(item, "an action", ActionKeys, bag);
            if (reader is null)
            {
                usable = false;
                continue;
            }

            var nameNode = reader.Scalar("action", required: true, "add action: <name> (see `respond actions`)");
            if (nameNode is not null) names.Add(nameNode.Value);
            var scope = ReadScope(reader, bag);
            if (scope is null)
            {
                usable = false;
                continue;
            }

            var lands = scope.Value.Scope.LandsIn(providers).ToImmutableArray();
            var action = ResolveAction(nameNode, lands, scope.Value.Scope.IsSelf ? null : scope.Value.Location, bag);
            if (action is null)
            {
                usable = false;
                continue;
            }

            var parameters = ParameterBinder.Bind(action, reader.Node("with", required: false), lands, requireAll: true, bag, reader.Location);
            if (parameters is not null) invocations.Add(new ActionInvocation(action, parameters, reader.Location) { Scope = scope.Value.Scope });
        }

        if (usable) declared = names;
        return bag.Items.Count(d => d.IsError) > errors ? null : invocations.ToImmutable();
    }

    /// <summary>
    /// An action's <c>on:</c>: self (default), linked, or a non-empty list of distinct providers; null after an error.
    /// </summary>
    private static (ActionScope Scope, SourceLocation? Location)? ReadScope(MappingReader action, DiagnosticBag bag)
    {
        const string Hint = "write on: self (the account the finding names), on: linked (its linked accounts in other providers) or on: [ad, entra, okta]";
        switch (action.Node("on", required: false))
        {
            case null:
                return (ActionScope.Self, null);
            case YScalar { IsNull: false, Value: "self" } self:
                return (ActionScope.Self, self.Location);
            case YScalar { IsNull: false, Value: "linked" } linked:
                return (ActionScope.AllLinked, linked.Location);
            case YScalar { IsNull: false } other when Providers.TryParse(other.Value, out var one):
                return (new ActionScope(false, [one]), other.Location);
            case YScalar other:
                bag.Error(DiagnosticCodes.InvalidValue, other.Location, $"'on' is '{other.Value}', not self, linked or a list of providers",
                    Suggest.Closest(other.Value, ["self", "linked", .. Providers.Names]) is { } close ? $"did you mean '{close}'? {Hint}" : Hint);
                return null;
            case YSequence { Items.IsEmpty: true } empty:
                bag.Error(DiagnosticCodes.EmptyList, empty.Location, "'on' lists no provider", Hint);
                return null;
            case YSequence list:
                var providers = ImmutableArray.CreateBuilder<Provider>();
                var ok = true;
                foreach (var item in list.Items)
                {
                    if (item is YScalar { IsNull: false } scalar && Providers.TryParse(scalar.Value, out var provider))
                    {
                        if (providers.Contains(provider))
                        {
                            bag.Error(DiagnosticCodes.InvalidValue, item.Location, $"provider '{scalar.Value}' is listed twice in 'on'", "list each provider once");
                            ok = false;
                        }
                        else
                        {
                            providers.Add(provider);
                        }

                        continue;
                    }

                    var text = item is YScalar s ? s.Value : item.KindName;
                    bag.Error(DiagnosticCodes.UnknownProvider, item.Location, $"unknown provider '{text}' in 'on'",
                        Suggest.Closest(text, [.. Providers.Names]) is { } nearest ? $"did you mean '{nearest}'? (ad, entra, okta)" : "the providers are ad, entra and okta");
                    ok = false;
                }

                return ok ? (new ActionScope(false, providers.ToImmutable()), list.Location) : null;
            case var node:
                bag.Error(DiagnosticCodes.WrongType, node.Location, $"'on' must be self, linked or a list of providers, found {node.KindName}", Hint);
                return null;
        }
    }

    private ActionDefinition? ResolveAction(YScalar? name, ImmutableArray<Provider> providers, SourceLocation? scopeAt, DiagnosticBag bag)
    {
        if (name is null) return null;
        var action = _catalogue.Find(name.Value);
        if (action is null)
        {
            bag.Error(DiagnosticCodes.UnknownAction, name.Location, $"unknown action '{name.Value}'",
                Suggest.Closest(name.Value, _catalogue.Names) is { } close ? $"did you mean '{close}'? (`respond actions` lists them)" : "`respond actions` lists the catalogue");
            return null;
        }

        var unsupported = providers.Where(p => !action.Supports(p)).ToList();
        if (unsupported.Count > 0 && scopeAt is { } at)
        {
            // With on: linked or a list, the action lands in other providers than the rule matches: each must support it.
            bag.Error(DiagnosticCodes.ActionProviderUnsupported, at,
                $"action '{action.Name}' can land in {string.Join(", ", unsupported.Select(p => $"'{p.Name()}'"))} through 'on', which it does not support (it supports {string.Join(", ", action.Providers.Select(p => p.Name()))})",
                $"write on: [{string.Join(", ", providers.Where(action.Supports).Select(p => p.Name()))}] to act only where it can, or split the action");
            return null;
        }

        if (unsupported.Count > 0)
        {
            bag.Error(DiagnosticCodes.ActionProviderUnsupported, name.Location,
                $"action '{action.Name}' does not support provider {string.Join(", ", unsupported.Select(p => $"'{p.Name()}'"))} (it supports {string.Join(", ", action.Providers.Select(p => p.Name()))})",
                "remove the provider from match.providers or split the rule per provider");
            return null;
        }

        return action;
    }

    private static RuleLimits ReadLimits(MappingReader rule, DiagnosticBag bag)
    {
        var reader = MappingReader.Open(rule.Node("limits", required: false), "'limits'", LimitKeys, bag);
        if (reader is null) return RuleLimits.None;
        var perHour = reader.Integer("max_per_hour", 1, 100_000);
        TimeSpan? cooldown = null;
        if (reader.Scalar("cooldown", required: false) is { } scalar)
        {
            cooldown = ParseDuration(scalar.Value);
            if (cooldown is null)
                bag.Error(DiagnosticCodes.InvalidDuration, scalar.Location, $"cooldown '{scalar.Value}' is not a duration", "write it like 30m, 24h or 7d");
        }

        return new RuleLimits(perHour is null ? null : (int)perHour, cooldown);
    }

    public static TimeSpan? ParseDuration(string text)
    {
        var match = DurationPattern().Match(text.Trim());
        if (!match.Success) return null;
        var amount = int.Parse(match.Groups[1].Value, CultureInfo.InvariantCulture);
        return match.Groups[2].Value switch
        {
            "s" => TimeSpan.FromSeconds(amount),
            "m" => TimeSpan.FromMinutes(amount),
            "h" => TimeSpan.FromHours(amount),
            _ => TimeSpan.FromDays(amount),
        };
    }

    private ImmutableArray<RuleTest> ReadTests(MappingReader rule, RuleMatch match, ImmutableArray<ActionInvocation> actions, IReadOnlySet<string>? declared,
        DiagnosticBag bag, bool checkOnly)
    {
        var node = rule.Node("tests", required: false);
        if (node is null) return [];
        if (node is not YSequence sequence)
        {
            bag.Error(DiagnosticCodes.WrongType, node.Location, $"'tests' must be a list, found {node.KindName}");
            return [];
        }

        var tests = ImmutableArray.CreateBuilder<RuleTest>();
        var index = 0;
        foreach (var item in sequence.Items)
        {
            index++;
            var reader = MappingReader.Open(item, "a test", TestKeys, bag);
            if (reader is null) continue;
            var name = reader.String("name", required: true, "name the test after the behaviour it pins") ?? $"test {index}";
            var finding = ReadTestFinding(reader, match, index, bag);
            var identity = ReadTestIdentity(reader, finding, match, bag);
            var linked = ReadLinked(reader, identity, bag);
            var expected = ReadExpectations(reader, actions, declared, match.Providers, bag);
            if (!checkOnly && finding is not null && identity is not null && expected is not null && linked is not null)
            {
                tests.Add(new RuleTest(name, finding, identity, expected.Value, reader.Location) { Linked = linked.Value });
            }
        }

        return tests.ToImmutable();
    }

    private static Finding? ReadTestFinding(MappingReader test, RuleMatch match, int index, DiagnosticBag bag)
    {
        // Every field of a test finding has a default that makes the rule's match hold, so a test names only what matters.
        var node = test.Node("finding", required: false);
        var reader = node is null ? null : MappingReader.Open(node, "the test finding", TestFindingKeys, bag);
        if (node is not null && reader is null) return null;
        var json = reader is null ? [] : YamlJson.ToJson(reader.Map) as System.Text.Json.Nodes.JsonObject;
        if (json is null) return null;
        json.TryAdd("id", $"test-{index}");
        json.TryAdd("source", "rule-test");
        json.TryAdd("type", match.Types[0]);
        json.TryAdd("severity", (match.MinSeverity > Severity.Medium ? match.MinSeverity : Severity.High).Name());
        json.TryAdd("observed_at", TestTime.ToString("yyyy-MM-ddTHH:mm:ssZ", CultureInfo.InvariantCulture));
        if (json["subject"] is System.Text.Json.Nodes.JsonObject subject)
        {
            subject.TryAdd("provider", match.Providers[0].Name());
            if (!subject.ContainsKey("id") && !subject.ContainsKey("name")) subject["name"] = "test-user";
        }
        else if (!json.ContainsKey("subject"))
        {
            json["subject"] = new System.Text.Json.Nodes.JsonObject { ["provider"] = match.Providers[0].Name(), ["name"] = "test-user" };
        }

        var findingBag = new DiagnosticBag();
        using var document = JsonDocument.Parse(json.ToJsonString());
        var finding = FindingReader.Parse(document.RootElement, reader?.Location ?? test.Location, findingBag);
        foreach (var diagnostic in findingBag.Items)
        {
            bag.Add(diagnostic with { Code = DiagnosticCodes.BadTest, Message = "test finding: " + diagnostic.Message });
        }

        return finding;
    }

    private Identity? ReadTestIdentity(MappingReader test, Finding? finding, RuleMatch match, DiagnosticBag bag) =>
        ReadIdentity(test.Node("identity", required: false), "the test identity", finding?.Subject.Provider ?? match.Providers[0],
            finding?.Subject.Name ?? finding?.Subject.Id ?? "test-user", finding?.Subject.Id, bag);

    /// <summary>
    /// A test's <c>linked:</c> accounts, each written like the test identity with its provider: one per provider other
    /// than the identity's. Null after an error.
    /// </summary>
    private ImmutableArray<Identity>? ReadLinked(MappingReader test, Identity? identity, DiagnosticBag bag)
    {
        var node = test.Node("linked", required: false);
        if (node is null) return [];
        if (node is not YSequence sequence)
        {
            bag.Error(DiagnosticCodes.WrongType, node.Location, $"'linked' must be a list of accounts, found {node.KindName}",
                "write linked: [ { provider: entra, name: alice@corp.example.com } ]");
            return null;
        }

        var errors = bag.Items.Count(d => d.IsError);
        var accounts = ImmutableArray.CreateBuilder<Identity>();
        foreach (var item in sequence.Items)
        {
            if (item is YMapping mapping && mapping["provider"] is null)
            {
                bag.Error(DiagnosticCodes.MissingField, item.Location, "a linked account needs its provider", "add provider: ad, entra or okta");
                continue;
            }

            var account = ReadIdentity(item, "a linked account", Provider.Ad, "linked-user", null, bag);
            if (account is null) continue;
            if (account.Provider == identity?.Provider || accounts.Any(a => a.Provider == account.Provider))
            {
                bag.Error(DiagnosticCodes.BadTest, item.Location, $"a person has one {account.Provider.Name()} account here: the test already states one",
                    "link one account per provider other than the test identity's");
                continue;
            }

            accounts.Add(account);
        }

        return bag.Items.Count(d => d.IsError) > errors ? null : accounts.ToImmutable();
    }

    private Identity? ReadIdentity(YNode? node, string context, Provider defaultProvider, string defaultName, string? defaultId, DiagnosticBag bag)
    {
        var reader = node is null ? null : MappingReader.Open(node, context, TestIdentityKeys, bag);
        if (node is not null && reader is null) return null;
        var errors = bag.Items.Count(d => d.IsError);
        var provider = defaultProvider;
        if (reader?.Choice("provider", required: false, [.. Providers.Names], DiagnosticCodes.UnknownProvider) is { } providerText)
        {
            _ = Providers.TryParse(providerText, out provider);
        }

        var name = reader?.String("name", required: false) ?? defaultName;
        var groups = new List<Group>();
        if (reader?.Node("groups", required: false) is { } groupsNode)
        {
            if (groupsNode is YSequence groupList)
            {
                foreach (var item in groupList.Items)
                {
                    if (item is YScalar { IsNull: false } groupName)
                    {
                        groups.Add(new Group(provider, groupName.Value, groupName.Value));
                        continue;
                    }

                    var groupReader = MappingReader.Open(item, "a test group", TestGroupKeys, bag);
                    var groupText = groupReader?.String("name", required: true);
                    if (groupReader is null || groupText is null) continue;
                    groups.Add(new Group(provider, groupText, groupText)
                    {
                        Dynamic = groupReader.Bool("dynamic") ?? false,
                        Synced = groupReader.Bool("synced") ?? false,
                        OktaType = groupReader.Choice("okta_type", required: false, ["OKTA_GROUP", "APP_GROUP", "BUILT_IN"]),
                    });
                }
            }
            else
            {
                bag.Error(DiagnosticCodes.WrongType, groupsNode.Location, $"'groups' must be a list, found {groupsNode.KindName}");
            }
        }

        var roles = reader?.Strings("roles", required: false, allowEmpty: true)?.Select(r => r.Value).ToList() ?? [];
        var tags = reader?.Strings("tags", required: false, allowEmpty: true)?.Select(t => t.Value).ToList() ?? [];
        var entry = new UserEntry(provider, reader?.String("id", required: false) ?? defaultId ?? name, name)
        {
            Upn = reader?.String("upn", required: false),
            Email = reader?.String("email", required: false),
            DisplayName = reader?.String("display_name", required: false),
            Enabled = reader?.Bool("enabled") ?? true,
            Guest = reader?.Bool("guest") ?? false,
            Groups = [.. groups.Select(g => g.Name)],
            Roles = roles,
            Tags = tags,
        };
        var privileged = reader?.Bool("privileged");
        if (bag.Items.Count(d => d.IsError) > errors) return null;
        var identity = DirectorySnapshot.Build([entry], groups, _policy).Users[0];
        return privileged is { } flag ? identity with { Privileged = flag } : identity;
    }

    private ImmutableArray<ExpectedAction>? ReadExpectations(MappingReader test, ImmutableArray<ActionInvocation> actions, IReadOnlySet<string>? declared,
        ImmutableArray<Provider> providers, DiagnosticBag bag)
    {
        var node = test.Node("expect", required: false);
        if (node is null)
        {
            if (test.Map["expect"] is null)
                bag.Error(DiagnosticCodes.MissingField, test.Location, "missing required field 'expect' in the test", "list the actions the rule should take, or expect: [] for none");
            return test.Map["expect"] is null ? null : [];
        }

        if (node is not YSequence sequence)
        {
            bag.Error(DiagnosticCodes.WrongType, node.Location, $"'expect' must be a list, found {node.KindName}", "write expect: [] or a list of action names");
            return null;
        }

        var expected = ImmutableArray.CreateBuilder<ExpectedAction>();
        var errors = bag.Items.Count(d => d.IsError);
        var failed = false;
        foreach (var item in sequence.Items)
        {
            YScalar? nameNode;
            YNode? with = null;
            switch (item)
            {
                case YScalar { IsNull: false } scalar:
                    nameNode = scalar;
                    break;
                case YMapping { Entries.Length: 1 } mapping:
                    nameNode = mapping.Entries[0].Key;
                    with = mapping.Entries[0].Value;
                    break;
                default:
                    bag.Error(DiagnosticCodes.BadTest, item.Location, "each expected action is a name, or name: { parameter: value }");
                    continue;
            }

            var action = _catalogue.Find(nameNode.Value);
            if (declared is null || !declared.Contains(nameNode.Value))
            {
                // With an unusable action, or none written at all, that is the one error; otherwise name what the rule has.
                if (declared is { Count: > 0 })
                {
                    var ruleActions = declared.Order(StringComparer.Ordinal).ToList();
                    bag.Error(DiagnosticCodes.UnknownExpectedAction, nameNode.Location, $"the test expects '{nameNode.Value}', which the rule does not have",
                        Suggest.Closest(nameNode.Value, ruleActions) is { } close ? $"did you mean '{close}'?" : $"the rule's actions are: {string.Join(", ", ruleActions)}");
                }

                failed = true;
                continue;
            }

            if (action is null || !actions.Any(a => a.Action == action))
            {
                // The rule's own action is wrong (unknown, unsupported or with bad parameters): that error is the root, reported there.
                failed = true;
                continue;
            }

            // on: names the provider of the account the action is expected on (a linked one); it is no parameter of the action.
            Provider? on = null;
            if (with is YMapping withMap && withMap["on"] is { } onNode)
            {
                if (onNode is YScalar { IsNull: false } onScalar && Providers.TryParse(onScalar.Value, out var onProvider)) on = onProvider;
                else
                {
                    bag.Error(DiagnosticCodes.UnknownProvider, onNode.Location, "'on' in an expectation names the provider of the account the action is expected on",
                        "write on: ad, on: entra or on: okta");
                    failed = true;
                    continue;
                }

                with = withMap with { Entries = [.. withMap.Entries.Where(e => e.Key.Value != "on")] };
            }

            var parameters = ParameterBinder.Bind(action, with, on is { } p ? [p] : providers, requireAll: false, bag, nameNode.Location);
            if (parameters is not null) expected.Add(new ExpectedAction(action.Name, parameters) { On = on });
        }

        return failed || bag.Items.Count(d => d.IsError) > errors ? null : expected.ToImmutable();
    }

    private static void CheckTestCoverage(Rule rule, ImmutableArray<RuleTest> tests, MappingReader reader, DiagnosticBag bag)
    {
        var hasPositive = tests.Any(t => !t.Expected.IsEmpty);
        var hasNegative = tests.Any(t => t.Expected.IsEmpty);
        if (hasPositive && hasNegative) return;
        var missing = !hasPositive && !hasNegative ? "no tests"
            : !hasPositive ? "no test that expects actions"
            : "no test that expects no action";
        var location = reader.Map.Entry("tests")?.Key.Location ?? rule.Location;
        bag.Warning(DiagnosticCodes.TestsIncomplete, location, $"rule '{rule.Id}' has {missing}",
            "add one test where the rule acts and one where it must not");
    }

    [GeneratedRegex("^[a-z0-9]+(-[a-z0-9]+)*$")]
    private static partial Regex IdPattern();

    [GeneratedRegex("^[a-z][a-z0-9_]*$")]
    private static partial Regex SnakeCase();

    [GeneratedRegex("^([0-9]{1,6})(s|m|h|d)$")]
    private static partial Regex DurationPattern();
}
