using System.Diagnostics;
using System.DirectoryServices.Protocols;
using System.Globalization;
using System.Net;
using System.Text;
using Microsoft.Data.Sqlite;
using ResponseEngine.Audit;
using ResponseEngine.Audit.Sqlite;
using ResponseEngine.TestKit;
using ResponseEngine.TestKit.ActiveDirectory;

namespace ResponseEngine.Reliability.Tests.Faults;

/// <summary>
/// A Samba AD DC of this class's own, on 127.0.0.4 (RESPOND_TEST_RELIABILITY_SAMBA_IP moves it): the test kills it and
/// starts it again, so it cannot share the AD connector tests' DC.
/// </summary>
public sealed class StoppableDcFixture : IAsyncLifetime
{
    public SambaDc Dc { get; } = SambaDc.At(Environment.GetEnvironmentVariable("RESPOND_TEST_RELIABILITY_SAMBA_IP") is { Length: > 0 } ip ? ip : "127.0.0.4");

    public ValueTask InitializeAsync() => ValueTask.CompletedTask;

    public ValueTask DisposeAsync() => Dc.DisposeAsync();
}

/// <summary>
/// `respond run` as a child process over many AD actions against a real Samba DC, which is SIGKILLed mid-run and later
/// started again. The DC is the ground truth: the replication metadata of each account counts the writes it took.
/// </summary>
public sealed class LdapServerStopTests(StoppableDcFixture fixture) : IClassFixture<StoppableDcFixture>
{
    private const int Users = 90;
    private const int RetryAttempts = 2;

    /// <summary>LDAP operations of one decision that can each be retried: read, apply, and the read-back after a lost answer.</summary>
    private const int OperationsPerDecision = 3;

    private const int UacAttid = 0x00090008;
    private const int PwdLastSetAttid = 0x00090060;

    private static CancellationToken Cancel => TestContext.Current.CancellationToken;

    private SambaDc Dc => fixture.Dc;

    /// <summary>Users 0–59 have an account-takeover finding (disable), users 30–89 a weak password (force a change): 120 decisions.</summary>
    private static bool Takeover(int i) => i < 60;

    private static bool Weak(int i) => i >= 30;

    [Fact]
    public async Task Run_DcKilledMidRun_EveryDecisionFinalWithinRetryBudgetAndRerunAfterRestartCompletesOnce()
    {
        await Dc.RequireAsync(Cancel);
        // The test's own setup, reads and clean-up are not what is under test: a connection the busy DC drops is opened again.
        using var admin = new AdminConnection(() => Dc.Connect(timeout: TimeSpan.FromSeconds(30)));
        var ou = $"OU=stop{Guid.NewGuid():N}"[..15] + "," + SambaDc.BaseDn;
        admin.Do(c => c.SendRequest(new AddRequest(ou, new DirectoryAttribute("objectClass", "organizationalUnit"))), alreadyDone: true);
        var dns = new List<string>();
        for (var i = 0; i < Users; i++)
        {
            var name = Name(i);
            admin.Do(c => AddUser(c, ou, name), alreadyDone: true);
            dns.Add($"CN={name},{ou}");
        }

        var before = dns.Select(dn => admin.Do(c => Versions(c, dn))).ToList();
        var calibrations = 0;
        var perWrite = admin.Do(c => Calibrate(c, ou, ++calibrations));
        var decisions = Enumerable.Range(0, Users).Sum(i => (Takeover(i) ? 1 : 0) + (Weak(i) ? 1 : 0));

        using var dir = Reliability.ScratchDirectory();
        await using var counter = new TcpCounter(IPAddress.Parse(Dc.Host), Dc.Port);
        WriteInputs(dir, ou, counter.Port);
        var audit = Path.Combine(dir.Path, "respond.db");

        // 1. The run, with the DC killed once some decisions have their outcome.
        var killAt = decisions * 2 / 5;
        var clock = Stopwatch.StartNew();
        var (first, outcomesAtKill, connectionsAtKill) = await RunKillingTheDcAsync(dir.Path, audit, killAt, counter);
        var firstTime = clock.Elapsed;
        first.Code.Should().Be(1, $"an action failed:\n{first.Output}\n{first.Error}");
        first.Error.Should().NotContain("Unhandled exception");
        var attemptsAfterKill = counter.Connections - connectionsAtKill;

        SqliteConnection.ClearAllPools();
        IReadOnlyList<AuditRecord> rows;
        await using (var store = new SqliteAuditStore(audit, TimeProvider.System))
        {
            (await store.OpenIntentsAsync(Cancel)).Should().BeEmpty("every intent has its outcome: no action after intent is silently dropped");
            (await store.VerifyAsync(Cancel)).Intact.Should().BeTrue();
            rows = await store.ReadAsync(new AuditQuery(), Cancel);
        }

        SqliteConnection.ClearAllPools();
        var intents = rows.Where(r => r.Entry.Status == AuditStatus.Intended).ToList();
        var outcomes = rows.Where(r => r.Entry.IntentSequence is not null).ToList();
        // With the DC gone the lockout guard cannot count the critical sets a destructive action is checked against, and
        // refuses (fail closed): every decision is intended, or refused for that reason, and final either way.
        var refused = rows.Where(r => r.Entry.Status == AuditStatus.Skipped && r.Entry.Guard == "lockout_protection"
            && r.Entry.Reason!.Contains("not acting without the count", StringComparison.Ordinal)).ToList();
        (intents.Count + refused.Count).Should().Be(decisions, "every decision was intended, or refused because the critical sets could not be counted");
        outcomes.GroupBy(r => r.Entry.IntentSequence).Should().OnlyContain(g => g.Count() == 1, "one outcome per intent");
        outcomes.Select(r => r.Entry.IntentSequence!.Value).Should().BeEquivalentTo(intents.Select(r => r.Sequence));
        outcomes.Should().OnlyContain(r => r.Entry.Status == AuditStatus.Succeeded || r.Entry.Status == AuditStatus.Failed || r.Entry.Status == AuditStatus.TimedOut,
            "a final status for each decision");
        var failed = outcomes.Where(r => r.Entry.Status != AuditStatus.Succeeded).ToList();
        failed.Should().NotBeEmpty("the DC was killed before the run ended");
        failed.Should().OnlyContain(r => !string.IsNullOrWhiteSpace(r.Entry.Error), "every failure says why");
        failed.Select(r => r.Entry.Error).Should().Contain(e => e!.Contains("cannot reach the domain controller", StringComparison.Ordinal));
        var succeeded = outcomes.Where(r => r.Entry.Status == AuditStatus.Succeeded).ToList();
        succeeded.Count.Should().BeGreaterThanOrEqualTo(outcomesAtKill - 1, "what was done before the kill stays recorded as done");
        // With the DC gone a decision fails at its first read (retry_attempts connections); only the one in flight at the
        // kill can also have its apply and the read-back after a lost answer retried.
        var budget = ((failed.Count + refused.Count) * RetryAttempts) + (RetryAttempts * (OperationsPerDecision - 1));
        attemptsAfterKill.Should().BeLessThanOrEqualTo(budget,
            $"nothing is retried past connectors.ad.retry_attempts={RetryAttempts} ({attemptsAfterKill} connection attempts for {failed.Count} failed decisions)");

        // 2. The DC comes back; the same run again reads the live state and finishes the work, doing nothing twice.
        await Dc.RestartAsync(Cancel);
        using var admin2 = new AdminConnection(() => Dc.Connect(timeout: TimeSpan.FromSeconds(30)));
        var second = await RunAsync(dir.Path);
        second.ExitCode.Should().Be(0, second.ToString());

        SqliteConnection.ClearAllPools();
        IReadOnlyList<AuditRecord> all;
        await using (var store = new SqliteAuditStore(audit, TimeProvider.System))
        {
            (await store.OpenIntentsAsync(Cancel)).Should().BeEmpty();
            (await store.VerifyAsync(Cancel)).Intact.Should().BeTrue();
            all = await store.ReadAsync(new AuditQuery(), Cancel);
        }

        SqliteConnection.ClearAllPools();
        var rerun = all.Where(r => r.Sequence > rows.Max(x => x.Sequence)).ToList();
        var doneBefore = succeeded.Select(r => r.Entry.IdempotencyKey).ToHashSet(StringComparer.Ordinal);
        rerun.Where(r => r.Entry.Status == AuditStatus.Intended && doneBefore.Contains(r.Entry.IdempotencyKey!)).Should()
            .BeEmpty("a decision done before the kill is not intended again (dedupe)");
        rerun.Where(r => r.Entry.Status == AuditStatus.Intended).Should().HaveCount(failed.Count + refused.Count, "each failed or refused decision is decided again, once");
        var rerunOutcomes = rerun.Where(r => r.Entry.IntentSequence is not null).ToList();
        rerunOutcomes.Should().OnlyContain(r => r.Entry.Status == AuditStatus.Succeeded || r.Entry.Status == AuditStatus.Noop);
        var noops = rerunOutcomes.Count(r => r.Entry.Status == AuditStatus.Noop);

        // The DC: every account has exactly the changes its findings asked for, each written exactly once.
        var twice = new List<string>();
        var effects = 0.0;
        for (var i = 0; i < Users; i++)
        {
            var dn = dns[i];
            var entry = admin2.Do(c => Read(c, dn, "userAccountControl", "pwdLastSet"));
            Text(entry, "userAccountControl").Should().Be(Takeover(i) ? "514" : "512", Name(i));
            (Text(entry, "pwdLastSet") == "0").Should().Be(Weak(i), Name(i));
            var after = admin2.Do(c => Versions(c, dn));
            var uacWrites = (after.Uac - before[i].Uac) / (double)perWrite.Uac;
            var pwdWrites = (after.PwdLastSet - before[i].PwdLastSet) / (double)perWrite.PwdLastSet;
            effects += uacWrites + pwdWrites;
            if (uacWrites != (Takeover(i) ? 1 : 0) || pwdWrites != (Weak(i) ? 1 : 0))
            {
                var name = Name(i);
                var trail = string.Join("\n", all.Where(r => r.Entry.IdentityName?.Contains(name, StringComparison.Ordinal) == true)
                    .Select(r => $"    #{r.Sequence} {r.Entry.RunId} {r.Entry.Action} {r.Entry.Status.Name()} {r.Entry.Guard} {r.Entry.Reason} {r.Entry.Error}"));
                twice.Add($"{name}: userAccountControl written {uacWrites}× (version {before[i].Uac}→{after.Uac}), pwdLastSet {pwdWrites}× ({before[i].PwdLastSet}→{after.PwdLastSet})\n{trail}");
            }
        }

        twice.Should().BeEmpty("each change reached the DC exactly once, across the kill, the failure and the rerun");
        admin2.Do(c =>
        {
            DeleteTree(c, ou);
            return true;
        });
        Reliability.Record("ldap-stop",
            $"decisions={decisions} dc-kills=1 dc-restarts=1 killed-after={outcomesAtKill} outcomes succeeded-before={succeeded.Count} failed={failed.Count} " +
            $"(timed_out={failed.Count(r => r.Entry.Status == AuditStatus.TimedOut)}) connection-attempts-after-kill={attemptsAfterKill} (budget {budget}) " +
            $"refused={counter.Refused} rerun: intents={failed.Count} noop={noops} effects-on-dc={effects} lost=0 duplicated=0 first-run={firstTime.TotalSeconds:0.0}s");
    }

    private async Task<((int Code, string Output, string Error) Result, int OutcomesAtKill, int ConnectionsAtKill)> RunKillingTheDcAsync(string dir, string audit, int killAt, TcpCounter counter)
    {
        using var process = Start(dir);
        var output = process.StandardOutput.ReadToEndAsync(Cancel);
        var error = process.StandardError.ReadToEndAsync(Cancel);
        using var deadline = CancellationTokenSource.CreateLinkedTokenSource(Cancel);
        deadline.CancelAfter(TimeSpan.FromMinutes(3));
        using var poll = new PeriodicTimer(TimeSpan.FromMilliseconds(25));
        var outcomes = 0;
        while ((outcomes = Outcomes(audit)) < killAt)
        {
            if (process.HasExited)
            {
                Assert.Fail($"the run ended before {killAt} outcomes ({outcomes}): exit {process.ExitCode}\n{await output}\n{await error}");
            }

            await poll.WaitForNextTickAsync(deadline.Token);
        }

        // Attempts are counted from the kill on: the connection open then is not one.
        var connections = counter.Connections;
        await Dc.KillAsync(TimeSpan.FromSeconds(30), Cancel);
        try
        {
            await process.WaitForExitAsync(deadline.Token);
        }
        catch (OperationCanceledException)
        {
            process.Kill(entireProcessTree: true);
            Assert.Fail($"respond run did not end within 3 minutes of the DC stopping: a hang\n{await output}\n{await error}");
        }

        return ((process.ExitCode, await output, await error), outcomes, connections);
    }

    private static int Outcomes(string audit)
    {
        if (!File.Exists(audit)) return 0;
        try
        {
            using var connection = new SqliteConnection(new SqliteConnectionStringBuilder { DataSource = audit, Mode = SqliteOpenMode.ReadOnly, Pooling = false }.ToString());
            connection.Open();
            using var command = connection.CreateCommand();
            command.CommandText = "SELECT COUNT(*) FROM audit_log WHERE intent_sequence IS NOT NULL";
            return Convert.ToInt32(command.ExecuteScalar(), CultureInfo.InvariantCulture);
        }
        catch (SqliteException)
        {
            return 0; // not created yet, or migrating
        }
    }

    private static Process Start(string dir)
    {
        var info = new ProcessStartInfo("dotnet") { WorkingDirectory = dir, RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        info.ArgumentList.Add(CliProcess.RespondDll);
        foreach (var arg in new[] { "run", "--once", "--config", "respond.yaml", "--rules", "rules", "--findings", "findings.ndjson" }) info.ArgumentList.Add(arg);
        info.Environment["NO_COLOR"] = "1";
        return Process.Start(info)!;
    }

    private static async Task<Security.Respond.Result> RunAsync(string dir) =>
        await Security.Respond.RunAsync(dir, new Dictionary<string, string>(), "run", "--once", "--config", "respond.yaml", "--rules", "rules", "--findings", "findings.ndjson");

    private void WriteInputs(TempDirectory dir, string ou, int port)
    {
        dir.Write("rules/ad/ad-takeover.yaml", RuleFiles.Rule(id: "ad-takeover", types: "[account_takeover]", providers: "[ad]", actions: "  - action: disable_user"));
        dir.Write("rules/ad/ad-weak.yaml", RuleFiles.Rule(id: "ad-weak", types: "[weak_password]", providers: "[ad]", actions: "  - action: reset_password"));
        var findings = new StringBuilder();
        var n = 0;
        for (var i = 0; i < Users; i++)
        {
            foreach (var type in new[] { Takeover(i) ? "account_takeover" : null, Weak(i) ? "weak_password" : null }.OfType<string>())
            {
                findings.Append("{\"id\":\"f").Append(n++).Append("\",\"source\":\"ldap-stop\",\"type\":\"").Append(type)
                    .Append("\",\"severity\":\"high\",\"observed_at\":\"2026-11-20T08:00:00Z\",\"subject\":{\"provider\":\"ad\",\"name\":\"").Append(Name(i)).Append("\"}}\n");
            }
        }

        dir.Write("findings.ndjson", findings.ToString());
        var password = dir.Write("ad-password", SambaDc.AdminPassword + "\n");
        dir.Write("respond.yaml", $"""
            connectors:
              ad:
                kind: ldap
                server: {Dc.Host}
                port: {port}
                base_dn: "{ou}"
                bind_dn: {SambaDc.AdminUpn}
                password_file: {password}
                ca_bundle: {Dc.CaFile}
                timeout_seconds: 10
                retry_attempts: {RetryAttempts}
            guards:
              breaker:
                threshold: 100000
              rate_limits:
                global_per_hour: 100000
                per_provider_per_hour:
                  ad: 100000
                per_action_per_hour:
                  disable_user: 100000
                  reset_password: 100000
            execution:
              action_timeout: 30s
            """);
    }

    private static string Name(int i) => "stop" + i.ToString("D3", CultureInfo.InvariantCulture);

    private static string AddUser(LdapConnection admin, string ou, string name)
    {
        var dn = $"CN={name},{ou}";
        admin.SendRequest(new AddRequest(dn,
            new DirectoryAttribute("objectClass", "user"),
            new DirectoryAttribute("sAMAccountName", name),
            new DirectoryAttribute("userPrincipalName", $"{name}@corp.example.com"),
            new DirectoryAttribute("unicodePwd", Encoding.Unicode.GetBytes("\"Seed!Passw0rd-42\"")),
            new DirectoryAttribute("userAccountControl", "512")));
        return dn;
    }

    private static SearchResultEntry Read(LdapConnection admin, string dn, params string[] attributes) =>
        ((SearchResponse)admin.SendRequest(new SearchRequest(dn, "(objectClass=*)", SearchScope.Base, attributes))).Entries[0];

    private static string Text(SearchResultEntry entry, string attribute) => (string)entry.Attributes[attribute].GetValues(typeof(string))[0];

    /// <summary>
    /// The originating-write versions of userAccountControl and pwdLastSet from the account's replPropertyMetaData
    /// (NDR: version, reserved, count, reserved, then 48-byte entries of attid, version, time, invocation id, usns): each
    /// write to an attribute adds one, so the difference between two reads counts the writes in between.
    /// </summary>
    private static (int Uac, int PwdLastSet) Versions(LdapConnection admin, string dn)
    {
        var blob = (byte[])Read(admin, dn, "replPropertyMetaData").Attributes["replPropertyMetaData"].GetValues(typeof(byte[]))[0];
        var count = BitConverter.ToInt32(blob, 8);
        int uac = 0, pwd = 0;
        for (var k = 0; k < count; k++)
        {
            var at = 16 + (k * 48);
            var attid = BitConverter.ToInt32(blob, at);
            var version = BitConverter.ToInt32(blob, at + 4);
            if (attid == UacAttid) uac = version;
            if (attid == PwdLastSetAttid) pwd = version;
        }

        return (uac, pwd);
    }

    /// <summary>
    /// How much one write moves each attribute's metadata version on this Samba (4.17: userAccountControl 2, since samldb
    /// rewrites it within the modify; pwdLastSet 1), measured on an account of its own. A write of the value already
    /// there moves nothing: what is counted is changes that took effect, as the Okta crash tests count effects.
    /// </summary>
    private static (int Uac, int PwdLastSet) Calibrate(LdapConnection admin, string ou, int attempt)
    {
        var dn = AddUser(admin, ou, "calibrate" + attempt.ToString(System.Globalization.CultureInfo.InvariantCulture));
        var start = Versions(admin, dn);
        admin.SendRequest(new ModifyRequest(dn, DirectoryAttributeOperation.Replace, "userAccountControl", "514"));
        admin.SendRequest(new ModifyRequest(dn, DirectoryAttributeOperation.Replace, "pwdLastSet", "0"));
        var end = Versions(admin, dn);
        (end.Uac - start.Uac).Should().BePositive();
        (end.PwdLastSet - start.PwdLastSet).Should().BePositive();
        return (end.Uac - start.Uac, end.PwdLastSet - start.PwdLastSet);
    }

    private static void DeleteTree(LdapConnection admin, string dn)
    {
        var response = (SearchResponse)admin.SendRequest(new SearchRequest(dn, "(objectClass=*)", SearchScope.Subtree, "1.1"));
        foreach (var entry in response.Entries.Cast<SearchResultEntry>().OrderByDescending(e => e.DistinguishedName.Length))
        {
            admin.SendRequest(new DeleteRequest(entry.DistinguishedName));
        }
    }

    /// <summary>
    /// An administrator's connection for the test's own setup, reads and clean-up: when the busy (or just restarted) DC
    /// drops it (81, server unavailable) it is opened again and the operation repeated. With <c>alreadyDone</c>, an
    /// add that the dropped connection had made before the drop counts as done.
    /// </summary>
    private sealed class AdminConnection(Func<LdapConnection> connect) : IDisposable
    {
        private LdapConnection _connection = connect();

        public T Do<T>(Func<LdapConnection, T> operation, bool alreadyDone = false)
        {
            for (var attempt = 1; ; attempt++)
            {
                try
                {
                    return operation(_connection);
                }
                catch (LdapException e) when (e.ErrorCode == 81 && attempt < 6)
                {
                    _connection.Dispose();
                    _connection = connect();
                }
                catch (DirectoryOperationException e) when (alreadyDone && attempt > 1 && e.Response?.ResultCode == ResultCode.EntryAlreadyExists)
                {
                    return default!;
                }
            }
        }

        public void Dispose() => _connection.Dispose();
    }
}
