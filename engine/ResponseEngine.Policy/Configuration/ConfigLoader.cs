using System.Collections;
using System.Collections.Frozen;
using System.Collections.Immutable;
using ResponseEngine.Configuration;
using ResponseEngine.Diagnostics;
using ResponseEngine.Findings;
using ResponseEngine.Identities;
using ResponseEngine.Policy.Rules;
using ResponseEngine.Policy.Yaml;
using YamlDotNet.Core;

namespace ResponseEngine.Policy.Configuration;

/// <summary>The engine's options, or the diagnostics that explain why respond.yaml cannot be used.</summary>
public sealed record ConfigLoad(EngineOptions? Options, ImmutableArray<Diagnostic> Diagnostics, string? File)
{
    public bool HasErrors => Diagnostics.Any(d => d.IsError);
}

/// <summary>
/// Reads respond.yaml with the same positioned diagnostics as rules, then applies environment overrides
/// (<c>RESPOND__GUARDS__LOCKOUT__MINIMUM=3</c>; lists comma-separated). With no file, the defaults run the embedded
/// default. Secrets belong in the environment; nothing here is ever printed.
/// </summary>
public static class ConfigLoader
{
    public const string EnvironmentPrefix = "RESPOND__";
    private const string EnvironmentFile = "environment";

    private static readonly string[] RootKeys = ["rules", "findings", "privileged", "guards", "audit", "local", "execution", "connectors", "serve", "lint", "notifications", "console", "linking"];
    private static readonly string[] LintKeys = ["require_expiry", "owners"];
    private static readonly string[] LinkingKeys = ["okta_match"];
    private static readonly string[] ConnectorKinds = ["local", "ldap", "graph", "entra", "okta"];
    private static readonly string[] PrivilegedProviderKeys = ["groups", "roles"];
    private static readonly string[] GuardKeys = ["protected", "lockout", "rate_limits", "breaker", "approval", "dedupe"];
    private static readonly string[] DedupeKeys = ["window"];
    private static readonly string[] ProtectedKeys = ["accounts", "groups", "tags", "engine_accounts"];
    private static readonly string[] LockoutKeys = ["minimum", "critical", "count_break_glass"];
    private static readonly string[] RateKeys = ["global_per_hour", "per_provider_per_hour", "per_action_per_hour"];
    private static readonly string[] BreakerKeys = ["threshold", "window"];
    private static readonly string[] AuditKeys = ["store", "connection", "insecure_skip_certificate_validation"];
    private static readonly string[] LocalKeys = ["snapshot", "working_copy"];
    private static readonly string[] ExecutionKeys = ["concurrency_per_provider", "action_timeout", "reconcile_after", "connect_timeout", "stop_grace"];
    private static readonly string[] ServeKeys = ["listen", "instance", "auth", "max_body", "inbox", "reconcile_every", "rules", "scheduler", "pollers"];
    private static readonly string[] ServeAuthKeys = ["hmac_secret_env", "token_env", "replay_window"];
    private static readonly string[] ServeInboxKeys = ["batch_size", "lease", "poll_interval"];
    private static readonly string[] ServeRulesKeys = ["watch", "git_pull_every"];
    private static readonly string[] ServeSchedulerKeys = ["store", "connection"];
    private static readonly string[] NotificationKeys = ["targets", "queue", "timeout", "attempts", "retry_delay", "max_retry_delay", "drain"];
    private static readonly string[] NotificationTargetKeys = ["kind", "url", "url_env", "secret_env", "events"];
    private static readonly string[] NotificationKinds = ["teams", "slack", "webhook"];
    private static readonly string[] ConsoleKeys = ["enabled", "oidc", "roles", "tokens", "session_idle", "key_directory", "forwarded_headers", "plan_reports"];
    private static readonly string[] ConsoleOidcKeys = ["authority", "client_id", "client_secret_env", "name_claim", "role_claims"];
    private static readonly string[] ConsoleTokenKeys = ["role", "sha256", "env"];
    private static readonly string[] PollerKinds = ["folder", "okta_logs", "graph_alerts", "graph_risky_users"];

    /// <summary>Loads <paramref name="path"/> (or respond.yaml when it exists), then the environment.</summary>
    public static ConfigLoad Load(string? path, IDictionary? environment = null)
    {
        var bag = new DiagnosticBag();
        var file = path ?? (File.Exists("respond.yaml") ? "respond.yaml" : null);
        YMapping root = new(SourceLocation.FileOnly(file ?? EnvironmentFile), []);
        if (file is not null)
        {
            if (!File.Exists(file))
            {
                bag.Error(DiagnosticCodes.FileUnreadable, SourceLocation.FileOnly(file), "configuration file does not exist", "pass --config with respond.yaml, or omit it to use the defaults");
                return new ConfigLoad(null, [.. bag.Items], file);
            }

            var node = YamlDocumentReader.Read(File.ReadAllText(file), file, bag);
            if (node is YMapping mapping) root = mapping;
            else if (node is not null) bag.Error(DiagnosticCodes.WrongType, node.Location, $"respond.yaml must be a mapping, found {node.KindName}");
        }

        root = ApplyEnvironment(root, environment ?? Environment.GetEnvironmentVariables());
        var options = Read(root, bag);
        return new ConfigLoad(bag.HasErrors ? null : options, [.. bag.Sorted()], file);
    }

    private static EngineOptions Read(YMapping root, DiagnosticBag bag)
    {
        var options = new EngineOptions();
        var reader = new MappingReader(root, "respond.yaml", RootKeys, bag);
        options = options with
        {
            Rules = reader.String("rules", required: false) ?? options.Rules,
            Findings = List(reader, "findings") ?? options.Findings,
            Privileged = ReadPrivileged(reader, bag, options.Privileged),
        };

        if (MappingReader.Open(reader.Node("guards", false), "'guards'", GuardKeys, bag) is { } guards)
        {
            var g = options.Guards;
            if (MappingReader.Open(guards.Node("protected", false), "'guards.protected'", ProtectedKeys, bag) is { } p)
            {
                g = g with
                {
                    Protected = new ProtectedIdentityOptions
                    {
                        Accounts = List(p, "accounts") ?? g.Protected.Accounts,
                        Groups = List(p, "groups") ?? g.Protected.Groups,
                        Tags = List(p, "tags") ?? g.Protected.Tags,
                        EngineAccounts = List(p, "engine_accounts") ?? g.Protected.EngineAccounts,
                    },
                };
            }

            if (MappingReader.Open(guards.Node("lockout", false), "'guards.lockout'", LockoutKeys, bag) is { } l)
            {
                var critical = g.Lockout.Critical;
                if (MappingReader.Open(l.Node("critical", false), "'guards.lockout.critical'", Providers.Names, bag) is { } c)
                {
                    foreach (var provider in Providers.All)
                    {
                        if (List(c, provider.Name()) is { } names) critical = critical.SetItem(provider, names);
                    }
                }

                g = g with
                {
                    Lockout = new LockoutOptions
                    {
                        Minimum = (int)(l.Integer("minimum", 0, 1000) ?? g.Lockout.Minimum),
                        Critical = critical,
                        CountBreakGlass = l.Bool("count_break_glass") ?? g.Lockout.CountBreakGlass,
                    },
                };
            }

            if (MappingReader.Open(guards.Node("rate_limits", false), "'guards.rate_limits'", RateKeys, bag) is { } r)
            {
                var perProvider = g.RateLimits.PerProviderPerHour;
                if (MappingReader.Open(r.Node("per_provider_per_hour", false), "'per_provider_per_hour'", Providers.Names, bag) is { } pp)
                {
                    foreach (var provider in Providers.All)
                    {
                        if (pp.Integer(provider.Name(), 0, 1_000_000) is { } n) perProvider = perProvider.SetItem(provider, (int)n);
                    }
                }

                var perAction = g.RateLimits.PerActionPerHour;
                if (MappingReader.Open(r.Node("per_action_per_hour", false), "'per_action_per_hour'", [.. Actions.ActionCatalogue.Default.Names], bag) is { } pa)
                {
                    foreach (var entry in pa.Map.Entries)
                    {
                        if (pa.Integer(entry.Key.Value, 0, 1_000_000) is { } n) perAction = perAction.SetItem(entry.Key.Value, (int)n);
                    }
                }

                g = g with
                {
                    RateLimits = new RateLimitOptions
                    {
                        GlobalPerHour = r.Integer("global_per_hour", 0, 1_000_000) is { } global ? (int)global : g.RateLimits.GlobalPerHour,
                        PerProviderPerHour = perProvider,
                        PerActionPerHour = perAction,
                    },
                };
            }

            if (MappingReader.Open(guards.Node("breaker", false), "'guards.breaker'", BreakerKeys, bag) is { } b)
            {
                g = g with
                {
                    Breaker = new BreakerOptions
                    {
                        Threshold = (int)(b.Integer("threshold", 1, 1_000_000) ?? g.Breaker.Threshold),
                        Window = Duration(b, "window", bag) ?? g.Breaker.Window,
                    },
                };
            }

            if (MappingReader.Open(guards.Node("approval", false), "'guards.approval'", ["expires"], bag) is { } a)
            {
                g = g with { Approval = new ApprovalOptions { Expires = Duration(a, "expires", bag) ?? g.Approval.Expires } };
            }

            if (MappingReader.Open(guards.Node("dedupe", false), "'guards.dedupe'", DedupeKeys, bag) is { } d)
            {
                g = g with { Dedupe = new DedupeOptions { Window = Duration(d, "window", bag) ?? g.Dedupe.Window } };
            }

            options = options with { Guards = g };
        }

        if (MappingReader.Open(reader.Node("audit", false), "'audit'", AuditKeys, bag) is { } audit)
        {
            options = options with
            {
                Audit = new AuditOptions
                {
                    Store = audit.Choice("store", false, ["sqlite", "sqlserver"]) ?? options.Audit.Store,
                    Connection = audit.String("connection", false) ?? options.Audit.Connection,
                },
            };
            if (options.Audit.Store == "sqlserver" && audit.Bool("insecure_skip_certificate_validation") != true
                && TlsVerificationOff(options.Audit.Connection) is { } setting)
            {
                // The connection string may hold a password: name the setting, never echo the string.
                bag.Error(DiagnosticCodes.InvalidValue, audit.Scalar("connection", false)?.Location ?? audit.Location,
                    $"audit.connection turns off TLS certificate validation ({setting}): anyone on the path could read or alter the audit trail",
                    "give SQL Server a certificate this host trusts; for a lab only, set audit.insecure_skip_certificate_validation: true");
            }
        }

        if (MappingReader.Open(reader.Node("local", false), "'local'", LocalKeys, bag) is { } local)
        {
            options = options with
            {
                Local = new LocalDirectoryOptions
                {
                    Snapshot = local.String("snapshot", false) ?? options.Local.Snapshot,
                    WorkingCopy = local.String("working_copy", false) ?? options.Local.WorkingCopy,
                },
            };
        }

        if (MappingReader.Open(reader.Node("connectors", false), "'connectors'", Providers.Names, bag) is { } connectors)
        {
            var map = options.Connectors;
            foreach (var provider in Providers.All)
            {
                if (connectors.Node(provider.Name(), false) is not YMapping settings) continue;
                var known = settings.Entries.Select(e => e.Key.Value).ToList();
                var each = new MappingReader(settings, $"'connectors.{provider.Name()}'", known, bag);
                var kind = each.Choice("kind", required: true, ConnectorKinds);
                var values = ImmutableDictionary.CreateBuilder<string, string>(StringComparer.Ordinal);
                foreach (var entry in settings.Entries.Where(e => e.Key.Value != "kind"))
                {
                    if (entry.Value is YScalar { IsNull: false } scalar) values[entry.Key.Value] = scalar.Value;
                    else bag.Error(DiagnosticCodes.WrongType, entry.Value.Location, $"'connectors.{provider.Name()}.{entry.Key.Value}' must be a single value");
                }

                if (kind is not null) map = map.SetItem(provider, new ConnectorSettings(kind, values.ToImmutable()));
            }

            options = options with { Connectors = map };
        }

        if (MappingReader.Open(reader.Node("execution", false), "'execution'", ExecutionKeys, bag) is { } execution)
        {
            options = options with
            {
                ConcurrencyPerProvider = (int)(execution.Integer("concurrency_per_provider", 1, 64) ?? options.ConcurrencyPerProvider),
                ActionTimeout = Duration(execution, "action_timeout", bag) ?? options.ActionTimeout,
                ReconcileAfter = Duration(execution, "reconcile_after", bag) ?? options.ReconcileAfter,
                ConnectTimeout = Duration(execution, "connect_timeout", bag) ?? options.ConnectTimeout,
                StopGrace = Duration(execution, "stop_grace", bag) ?? options.StopGrace,
            };

            // An action may take its timeout, then its read-back after a lost answer another: an intent younger than both
            // may still be in flight, and the reconciler must never close it (nor requeue its finding) under the action.
            if (options.ReconcileAfter <= 2 * options.ActionTimeout
                && (execution.Scalar("reconcile_after", false) ?? execution.Scalar("action_timeout", false)) is { } at)
            {
                bag.Error(DiagnosticCodes.InvalidValue, at.Location,
                    $"'execution.reconcile_after' ({DurationText.Format(options.ReconcileAfter)}) must be longer than twice 'execution.action_timeout' ({DurationText.Format(options.ActionTimeout)}): an action and the read-back after a lost answer may take that long, and the reconciler would close an intent whose action is still in flight",
                    $"raise reconcile_after above {DurationText.Format(2 * options.ActionTimeout)}, or lower action_timeout");
            }
        }

        if (MappingReader.Open(reader.Node("serve", false), "'serve'", ServeKeys, bag) is { } serve)
        {
            options = options with { Serve = ReadServe(serve, bag, options.Serve) };
        }

        if (MappingReader.Open(reader.Node("lint", false), "'lint'", LintKeys, bag) is { } lint)
        {
            var modes = ImmutableArray.CreateBuilder<ResponseEngine.Rules.RuleMode>();
            foreach (var (mode, location) in lint.Strings("require_expiry", required: false, allowEmpty: true) ?? [])
            {
                if (mode == "enforce") modes.Add(ResponseEngine.Rules.RuleMode.Enforce);
                else if (mode == "observe") modes.Add(ResponseEngine.Rules.RuleMode.Observe);
                else bag.Error(DiagnosticCodes.InvalidValue, location, $"lint.require_expiry names mode '{mode}'", "use enforce and/or observe");
            }

            options = options with { Lint = new LintOptions(modes.ToImmutable(), List(lint, "owners") ?? []) };
        }

        if (MappingReader.Open(reader.Node("linking", false), "'linking'", LinkingKeys, bag) is { } linking)
        {
            var attributes = ImmutableArray.CreateBuilder<LinkAttribute>();
            foreach (var (name, location) in linking.Strings("okta_match", required: false, allowEmpty: true) ?? [])
            {
                if (LinkAttributes.TryParse(name, out var attribute)) attributes.Add(attribute);
                else bag.Error(DiagnosticCodes.InvalidValue, location, $"linking.okta_match names '{name}', which is not an attribute accounts are matched on",
                    Suggest.Closest(name, LinkAttributes.Names) is { } close ? $"did you mean '{close}'? (login, email, employee_id)" : "use login, email and/or employee_id");
            }

            options = options with { Linking = new LinkOptions(attributes.ToImmutable()) };
        }

        if (MappingReader.Open(reader.Node("notifications", false), "'notifications'", NotificationKeys, bag) is { } notifications)
        {
            options = options with { Notifications = ReadNotifications(notifications, bag, options.Notifications) };
        }

        if (MappingReader.Open(reader.Node("console", false), "'console'", ConsoleKeys, bag) is { } console)
        {
            options = options with { Console = ReadConsole(console, bag) };
        }

        return options;
    }

    private static ServeOptions ReadServe(MappingReader serve, DiagnosticBag bag, ServeOptions s)
    {
        s = s with
        {
            Listen = serve.String("listen", false) ?? s.Listen,
            Instance = serve.String("instance", false) ?? s.Instance,
            MaxBodyBytes = serve.Integer("max_body", 1024, 256L * 1024 * 1024) ?? s.MaxBodyBytes,
            ReconcileEvery = Duration(serve, "reconcile_every", bag) ?? s.ReconcileEvery,
        };
        if (s.Listen is { } listen && !(Uri.TryCreate(listen, UriKind.Absolute, out var uri) && uri.Scheme is "http" or "https"))
        {
            bag.Error(DiagnosticCodes.InvalidValue, serve.Scalar("listen", false)?.Location ?? serve.Location, $"'serve.listen' is '{listen}', not an http(s) URL", "write it like http://0.0.0.0:8080");
        }

        if (MappingReader.Open(serve.Node("auth", false), "'serve.auth'", ServeAuthKeys, bag) is { } auth)
        {
            s = s with
            {
                HmacSecretEnv = auth.String("hmac_secret_env", false) ?? s.HmacSecretEnv,
                TokenEnv = auth.String("token_env", false) ?? s.TokenEnv,
                ReplayWindow = Duration(auth, "replay_window", bag) ?? s.ReplayWindow,
            };
        }

        if (MappingReader.Open(serve.Node("inbox", false), "'serve.inbox'", ServeInboxKeys, bag) is { } inbox)
        {
            s = s with
            {
                BatchSize = (int)(inbox.Integer("batch_size", 1, 10_000) ?? s.BatchSize),
                Lease = Duration(inbox, "lease", bag) ?? s.Lease,
                PollInterval = FineDuration(inbox, "poll_interval", bag) ?? s.PollInterval,
            };
        }

        if (MappingReader.Open(serve.Node("rules", false), "'serve.rules'", ServeRulesKeys, bag) is { } rules)
        {
            s = s with { WatchRules = rules.Bool("watch") ?? s.WatchRules, GitPullEvery = Duration(rules, "git_pull_every", bag) ?? s.GitPullEvery };
        }

        if (MappingReader.Open(serve.Node("scheduler", false), "'serve.scheduler'", ServeSchedulerKeys, bag) is { } scheduler)
        {
            s = s with
            {
                Scheduler = scheduler.Choice("store", false, ["ram", "sqlserver"]) ?? s.Scheduler,
                SchedulerConnection = scheduler.String("connection", false) ?? s.SchedulerConnection,
            };
        }

        if (serve.Node("pollers", false) is YMapping pollerMap)
        {
            var pollers = ImmutableArray.CreateBuilder<PollerOptions>();
            foreach (var entry in pollerMap.Entries)
            {
                var name = entry.Key.Value;
                if (entry.Value is not YMapping settings)
                {
                    bag.Error(DiagnosticCodes.WrongType, entry.Value.Location, $"'serve.pollers.{name}' must be a mapping with at least 'kind'", "write it like { kind: folder, path: /var/respond/drop, every: 30s }");
                    continue;
                }

                var each = new MappingReader(settings, $"'serve.pollers.{name}'", [.. settings.Entries.Select(e => e.Key.Value)], bag);
                var kind = each.Choice("kind", required: true, PollerKinds);
                var every = Duration(each, "every", bag) ?? TimeSpan.FromMinutes(1);
                var values = ImmutableDictionary.CreateBuilder<string, string>(StringComparer.Ordinal);
                foreach (var setting in settings.Entries.Where(e => e.Key.Value is not ("kind" or "every")))
                {
                    if (setting.Value is YScalar { IsNull: false } scalar) values[setting.Key.Value] = scalar.Value;
                    else bag.Error(DiagnosticCodes.WrongType, setting.Value.Location, $"'serve.pollers.{name}.{setting.Key.Value}' must be a single value");
                }

                if (kind == "folder" && !values.ContainsKey("path"))
                {
                    bag.Error(DiagnosticCodes.MissingField, settings.Location, $"missing required field 'path' in 'serve.pollers.{name}'", "the folder the exports are dropped into");
                }

                if (kind is not null) pollers.Add(new PollerOptions(name, kind, every, values.ToImmutable()));
            }

            s = s with { Pollers = pollers.ToImmutable() };
        }
        else if (serve.Node("pollers", false) is { } notMap)
        {
            bag.Error(DiagnosticCodes.WrongType, notMap.Location, $"'serve.pollers' must be a mapping of poller names to settings, found {notMap.KindName}");
        }

        return s;
    }

    /// <summary>
    /// The console: on when the section is written (enabled: false turns it off); people sign in with OIDC, scripts with
    /// API tokens, and roles come from claim values. No secret is ever written here: the client secret and the tokens
    /// are named environment variables, or a token's SHA-256.
    /// </summary>
    private static ConsoleOptions ReadConsole(MappingReader section, DiagnosticBag bag)
    {
        var c = new ConsoleOptions
        {
            Enabled = section.Bool("enabled") ?? true, SessionIdle = Duration(section, "session_idle", bag) ?? new ConsoleOptions().SessionIdle,
            KeyDirectory = section.String("key_directory", false),
            PlanReports = section.String("plan_reports", false),
        };
        if (section.Strings("forwarded_headers", required: false, allowEmpty: true) is { } proxies)
        {
            var trusted = ImmutableArray.CreateBuilder<string>();
            foreach (var (value, location) in proxies)
            {
                if (System.Net.IPAddress.TryParse(value, out _) && !value.Contains('/', StringComparison.Ordinal) || System.Net.IPNetwork.TryParse(value, out _)) trusted.Add(value);
                else bag.Error(DiagnosticCodes.InvalidValue, location, $"'console.forwarded_headers' has '{value}', not an IP address or a network",
                    "list the reverse proxies whose X-Forwarded-* headers are believed, as addresses (10.0.0.5) or networks (10.0.0.0/24)");
            }

            c = c with { ForwardedHeaders = trusted.ToImmutable() };
        }

        if (MappingReader.Open(section.Node("oidc", false), "'console.oidc'", ConsoleOidcKeys, bag) is { } oidc)
        {
            var authority = oidc.String("authority", true, "the issuer URL, e.g. https://login.microsoftonline.com/TENANT/v2.0");
            var clientId = oidc.String("client_id", true, "the application (client) id registered with the provider");
            var secretEnv = EnvironmentName(oidc, "client_secret_env", "'console.oidc'", bag);
            if (authority is not null && !(Uri.TryCreate(authority, UriKind.Absolute, out var uri) && (uri.Scheme == "https" || (uri.Scheme == "http" && uri.IsLoopback))))
            {
                bag.Error(DiagnosticCodes.InvalidValue, oidc.Scalar("authority", false)!.Location, $"'console.oidc.authority' is '{authority}', not an https URL",
                    "write the issuer like https://login.microsoftonline.com/TENANT/v2.0 (plain http only on loopback, for a test provider)");
            }

            var claims = oidc.Strings("role_claims", required: false) is { } list ? list.Select(l => l.Value).ToImmutableArray() : new ConsoleOidcOptions { Authority = "", ClientId = "" }.RoleClaims;
            if (authority is not null && clientId is not null)
            {
                c = c with
                {
                    Oidc = new ConsoleOidcOptions
                    {
                        Authority = authority, ClientId = clientId, ClientSecretEnv = secretEnv, NameClaim = oidc.String("name_claim", false) ?? "preferred_username", RoleClaims = claims,
                    },
                };
            }
        }

        if (MappingReader.Open(section.Node("roles", false), "'console.roles'", ConsoleRoles.Names, bag) is { } roles)
        {
            var map = ImmutableDictionary.CreateBuilder<string, ConsoleRole>(StringComparer.Ordinal);
            foreach (var role in Enum.GetValues<ConsoleRole>())
            {
                var name = role.Name();
                foreach (var (value, _) in roles.Strings(name, required: false) ?? [])
                {
                    if (!map.TryGetValue(value, out var had) || had < role) map[value] = role;
                }
            }

            c = c with { Roles = map.ToImmutable() };
        }

        if (section.Node("tokens", false) is YMapping tokenMap)
        {
            var tokens = ImmutableArray.CreateBuilder<ConsoleTokenOptions>();
            foreach (var entry in tokenMap.Entries)
            {
                var name = entry.Key.Value;
                var context = $"'console.tokens.{name}'";
                if (MappingReader.Open(entry.Value, context, ConsoleTokenKeys, bag) is not { } token) continue;
                var role = token.Choice("role", required: true, [.. ConsoleRoles.Names]);
                var sha = token.String("sha256", false);
                var env = EnvironmentName(token, "env", context, bag);
                if (sha is not null && !(sha.Length == 64 && sha.All(char.IsAsciiHexDigit)))
                {
                    bag.Error(DiagnosticCodes.InvalidValue, token.Scalar("sha256", false)!.Location, $"{context}: 'sha256' must be the token's SHA-256 as 64 hex digits, not the token",
                        "write the output of: printf %s \"$TOKEN\" | sha256sum");
                    sha = null;
                }

                if ((sha is null) == (env is null) && token.Scalar("sha256", false) is null && token.Scalar("env", false) is null)
                {
                    bag.Error(DiagnosticCodes.MissingField, token.Location, $"missing required field 'sha256' or 'env' in {context}",
                        "give the token's SHA-256 (sha256: …) or the environment variable that holds it (env: …); never the token itself");
                }
                else if (sha is not null && env is not null)
                {
                    bag.Error(DiagnosticCodes.InvalidValue, token.Location, $"{context} gives both 'sha256' and 'env'", "keep one");
                }

                if (role is not null && ConsoleRoles.TryParse(role, out var parsed) && (sha is not null || env is not null))
                {
                    tokens.Add(new ConsoleTokenOptions(name, parsed, sha?.ToLowerInvariant(), env));
                }
            }

            c = c with { Tokens = tokens.ToImmutable() };
        }
        else if (section.Node("tokens", false) is { } notMap)
        {
            bag.Error(DiagnosticCodes.WrongType, notMap.Location, $"'console.tokens' must be a mapping of token names to settings, found {notMap.KindName}",
                "write it like { soar: { role: approver, env: RESPOND_CONSOLE_TOKEN_SOAR } }");
        }

        if (c.Enabled && c.Oidc is null && c.Tokens.IsEmpty && section.Node("oidc", false) is null && section.Node("tokens", false) is null)
        {
            bag.Error(DiagnosticCodes.MissingField, section.Location, "the console is enabled but nobody can sign in: 'console' has neither 'oidc' nor 'tokens'",
                "add an oidc section for people, tokens for scripts, or write enabled: false");
        }

        return c;
    }

    private static NotificationOptions ReadNotifications(MappingReader section, DiagnosticBag bag, NotificationOptions n)
    {
        n = n with
        {
            Queue = (int)(section.Integer("queue", 1, 1_000_000) ?? n.Queue),
            Timeout = FineDuration(section, "timeout", bag) ?? n.Timeout,
            Attempts = (int)(section.Integer("attempts", 1, 20) ?? n.Attempts),
            RetryDelay = FineDuration(section, "retry_delay", bag) ?? n.RetryDelay,
            MaxRetryDelay = FineDuration(section, "max_retry_delay", bag) ?? n.MaxRetryDelay,
            Drain = FineDuration(section, "drain", bag) ?? n.Drain,
        };
        if (section.Node("targets", false) is not { } targetsNode) return n;
        if (targetsNode is not YMapping targetMap)
        {
            bag.Error(DiagnosticCodes.WrongType, targetsNode.Location, $"'notifications.targets' must be a mapping of target names to settings, found {targetsNode.KindName}",
                "write it like { soc: { kind: teams, url_env: RESPOND_TEAMS_WEBHOOK_URL } }");
            return n;
        }

        var targets = ImmutableArray.CreateBuilder<NotificationTarget>();
        foreach (var entry in targetMap.Entries)
        {
            var name = entry.Key.Value;
            var context = $"'notifications.targets.{name}'";
            if (MappingReader.Open(entry.Value, context, NotificationTargetKeys, bag) is not { } target) continue;
            var kind = target.Choice("kind", required: true, NotificationKinds);
            var url = target.String("url", false);
            var urlEnv = EnvironmentName(target, "url_env", context, bag);
            var secretEnv = EnvironmentName(target, "secret_env", context, bag);
            if (kind is "teams" or "slack" && url is not null)
            {
                // Whoever holds a Teams or Slack webhook URL can post to the channel: it is a secret, and never in the file.
                bag.Error(DiagnosticCodes.InvalidValue, target.Scalar("url", false)!.Location, $"{context}: the {kind} webhook URL is a credential and cannot be written in respond.yaml",
                    "put it in an environment variable and name that variable with url_env");
            }
            else if (url is not null && !(Uri.TryCreate(url, UriKind.Absolute, out var uri) && uri.Scheme is "http" or "https"))
            {
                bag.Error(DiagnosticCodes.InvalidValue, target.Scalar("url", false)!.Location, $"{context}: 'url' is not an http(s) URL", "write it like https://hooks.corp.example/respond");
            }

            if (url is null && urlEnv is null && kind is not null)
            {
                bag.Error(DiagnosticCodes.MissingField, target.Location, $"missing required field 'url_env' in {context}", "name the environment variable that holds the receiver's URL");
            }

            if (kind == "webhook" && secretEnv is null && target.Scalar("secret_env", false) is null)
            {
                bag.Error(DiagnosticCodes.MissingField, target.Location, $"missing required field 'secret_env' in {context}",
                    "name the environment variable that holds the HMAC-SHA256 key the receiver verifies signatures with");
            }
            else if (kind is "teams" or "slack" && target.Scalar("secret_env", false) is { } unused)
            {
                bag.Error(DiagnosticCodes.InvalidValue, unused.Location, $"{context}: {kind} does not take 'secret_env' (its URL is its secret)", "remove secret_env, or use kind: webhook");
            }

            var events = NotificationEvents.All;
            if (target.Strings("events", false) is { } words)
            {
                var chosen = ImmutableArray.CreateBuilder<NotificationEvent>();
                foreach (var (word, location) in words)
                {
                    if (NotificationEvents.Parse(word) is { } e) chosen.Add(e);
                    else bag.Error(DiagnosticCodes.InvalidValue, location, $"{context}: unknown event '{word}'", $"use {string.Join(", ", NotificationEvents.Names)}");
                }

                events = chosen.Distinct().ToImmutableArray();
            }

            if (kind is not null) targets.Add(new NotificationTarget(name, kind, url, urlEnv, secretEnv, events));
        }

        return n with { Targets = targets.ToImmutable() };
    }

    /// <summary>A setting that names an environment variable; a value that is not a variable name is refused without echoing it (it may be the secret itself).</summary>
    private static string? EnvironmentName(MappingReader reader, string key, string context, DiagnosticBag bag)
    {
        if (reader.Scalar(key, false) is not { } scalar) return null;
        var value = scalar.Value;
        if (value.Length is > 0 and <= 128 && (char.IsAsciiLetter(value[0]) || value[0] == '_') && value.All(c => char.IsAsciiLetterOrDigit(c) || c == '_')) return value;
        bag.Error(DiagnosticCodes.InvalidValue, scalar.Location, $"{context}: '{key}' must name an environment variable (letters, digits and _), not hold a value",
            $"set the value in an environment variable, e.g. RESPOND_NOTIFY_{key.ToUpperInvariant()}, and write that name here");
        return null;
    }

    private static PrivilegedPolicy ReadPrivileged(MappingReader root, DiagnosticBag bag, PrivilegedPolicy defaults)
    {
        if (MappingReader.Open(root.Node("privileged", false), "'privileged'", Providers.Names, bag) is not { } privileged) return defaults;
        var groups = defaults.Groups;
        var roles = defaults.Roles;
        foreach (var provider in Providers.All)
        {
            if (MappingReader.Open(privileged.Node(provider.Name(), false), $"'privileged.{provider.Name()}'", PrivilegedProviderKeys, bag) is not { } p) continue;
            if (List(p, "groups") is { } g) groups = groups.SetItem(provider, g.ToFrozenSet(StringComparer.OrdinalIgnoreCase));
            if (List(p, "roles") is { } r) roles = roles.SetItem(provider, r.ToFrozenSet(StringComparer.OrdinalIgnoreCase));
        }

        return defaults with { Groups = groups, Roles = roles };
    }

    private static ImmutableArray<string>? List(MappingReader reader, string key)
    {
        // Values from the environment are one string: a comma-separated list.
        if (reader.Map[key] is YScalar fromEnvironment && fromEnvironment.Location.File.StartsWith(EnvironmentFile, StringComparison.Ordinal))
        {
            return [.. fromEnvironment.Value.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)];
        }

        return reader.Strings(key, required: false, allowEmpty: true) is { } items ? [.. items.Select(i => i.Value)] : null;
    }

    private static TimeSpan? Duration(MappingReader reader, string key, DiagnosticBag bag)
    {
        if (reader.Scalar(key, false) is not { } scalar) return null;
        var duration = RuleLoader.ParseDuration(scalar.Value);
        if (duration is null) bag.Error(DiagnosticCodes.InvalidDuration, scalar.Location, $"'{key}' is '{scalar.Value}', not a duration", "write it like 30s, 10m, 1h or 7d");
        return duration;
    }

    /// <summary>The SQL Server connection-string setting that disables certificate validation, if any (keys as SqlClient reads them).</summary>
    internal static string? TlsVerificationOff(string connection)
    {
        foreach (var part in connection.Split(';', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
        {
            var at = part.IndexOf('=', StringComparison.Ordinal);
            if (at <= 0) continue;
            var key = part[..at].Replace(" ", "", StringComparison.Ordinal).ToLowerInvariant();
            var value = part[(at + 1)..].Trim().Trim('\'', '"').ToLowerInvariant();
            if (key is "trustservercertificate" or "trust_server_certificate" && value is "true" or "yes") return "TrustServerCertificate=true";
            if (key == "encrypt" && value is "false" or "no" or "optional") return $"Encrypt={value}";
        }

        return null;
    }

    /// <summary>A duration that may also be written in milliseconds (200ms), for intervals shorter than a second.</summary>
    private static TimeSpan? FineDuration(MappingReader reader, string key, DiagnosticBag bag)
    {
        if (reader.Scalar(key, false) is { } scalar && scalar.Value.EndsWith("ms", StringComparison.Ordinal)
            && int.TryParse(scalar.Value[..^2], System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out var ms) && ms > 0)
        {
            return TimeSpan.FromMilliseconds(ms);
        }

        return Duration(reader, key, bag);
    }

    /// <summary>Overlays RESPOND__A__B=value onto the YAML tree as a:b: value.</summary>
    private static YMapping ApplyEnvironment(YMapping root, IDictionary environment)
    {
        foreach (DictionaryEntry variable in environment)
        {
            if (variable.Key is not string name || !name.StartsWith(EnvironmentPrefix, StringComparison.Ordinal) || variable.Value is not string value) continue;
            var path = name[EnvironmentPrefix.Length..].ToLowerInvariant().Split("__", StringSplitOptions.RemoveEmptyEntries);
            if (path.Length > 0) root = Set(root, path, new YScalar(new SourceLocation($"{EnvironmentFile} {name}", 0, 0), value, ScalarStyle.Plain));
        }

        return root;
    }

    private static YMapping Set(YMapping map, ReadOnlySpan<string> path, YScalar value)
    {
        var key = path[0];
        var existing = map.Entry(key);
        YNode replacement = path.Length == 1
            ? value
            : Set(existing?.Value as YMapping ?? new YMapping(value.Location, []), path[1..], value);
        var keyNode = existing?.Key ?? new YScalar(value.Location, key, ScalarStyle.Plain);
        var entries = existing is null ? map.Entries.Add(new YEntry(keyNode, replacement)) : map.Entries.Replace(existing, new YEntry(keyNode, replacement));
        return map with { Entries = entries };
    }
}
