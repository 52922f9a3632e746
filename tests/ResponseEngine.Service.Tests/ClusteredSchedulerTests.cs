using System.Collections.Concurrent;
using Microsoft.Data.SqlClient;
using Microsoft.Extensions.DependencyInjection;
using Quartz;
using ResponseEngine.Audit.SqlServer;

namespace ResponseEngine.Service.Tests;

/// <summary>
/// `serve.scheduler.store: sqlserver` on a real SQL Server, when one is at hand: two schedulers configured exactly as
/// `respond serve` configures its store (<see cref="ServeHost.UseClusteredSqlServer"/>), on a database the audit store
/// migrated (V003 included), share one schedule; each fire time of it runs on one of them only. Without
/// RESPOND_TEST_SQLSERVER the test is skipped, saying how to run it (as the SQL Server audit tests are).
/// </summary>
public sealed class ClusteredSchedulerTests : IAsyncDisposable
{
    private const string HowToRun =
        "the clustered scheduler test needs a SQL Server: `docker compose -f docker/compose.yaml up -d sqlserver`, then " +
        "RESPOND_TEST_SQLSERVER='Server=localhost,1433;User ID=sa;Password=<MSSQL_SA_PASSWORD>;TrustServerCertificate=True' " +
        "dotnet test --project tests/ResponseEngine.Service.Tests";

    private static readonly string? Server = Environment.GetEnvironmentVariable("RESPOND_TEST_SQLSERVER");

    private readonly string _database = "respond_quartz_" + Guid.NewGuid().ToString("N")[..12];
    private readonly List<ServiceProvider> _nodes = [];
    private bool _created;

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    private string Connection => new SqlConnectionStringBuilder(Server) { InitialCatalog = _database }.ConnectionString;

    /// <summary>Every fire of the shared schedule: which node ran it, for which scheduled time.</summary>
    public sealed class FireLog
    {
        public ConcurrentQueue<(string Node, DateTimeOffset Scheduled)> Fires { get; } = new();
    }

    public sealed class TickJob(FireLog log) : IJob
    {
        public ValueTask Execute(IJobExecutionContext context, CancellationToken cancellationToken = default)
        {
            log.Fires.Enqueue((context.Scheduler.SchedulerInstanceId, context.ScheduledFireTimeUtc!.Value));
            return ValueTask.CompletedTask;
        }
    }

    private async Task<IScheduler> NodeAsync(FireLog log, DateTimeOffset start)
    {
        var services = new ServiceCollection();
        services.AddLogging();
        services.AddSingleton(log);
        services.AddQuartz(q =>
        {
            q.UsePersistentStore(store => ServeHost.UseClusteredSqlServer(store, Connection));
            q.ScheduleJob<TickJob>(t => t.WithIdentity("tick").StartAt(start).WithSimpleSchedule(s => s.WithInterval(TimeSpan.FromSeconds(1)).RepeatForever()),
                j => j.WithIdentity("tick"));
        });
        var provider = services.BuildServiceProvider();
        _nodes.Add(provider);
        var scheduler = await provider.GetRequiredService<ISchedulerFactory>().GetScheduler(Ct);
        await scheduler.Start(Ct);
        return scheduler;
    }

    [Fact]
    public async Task Clustered_TwoSchedulersOnOneSqlServerStore_RunEachFireTimeOnce()
    {
        Assert.SkipWhen(string.IsNullOrWhiteSpace(Server), HowToRun);
        await using (var master = new SqlConnection(new SqlConnectionStringBuilder(Server) { InitialCatalog = "master" }.ConnectionString))
        {
            await master.OpenAsync(Ct);
            await using var create = master.CreateCommand();
            create.CommandText = $"CREATE DATABASE [{_database}]";
            await create.ExecuteNonQueryAsync(Ct);
            _created = true;
        }

        await using (var store = SqlServerAuditStore.Open(Connection, TimeProvider.System))
        {
            await store.InitializeAsync(Ct); // V001–V003: the trail, the inbox and Quartz's tables
        }

        // One start time for both: two schedulers that did not share the trigger would both fire at every second of it.
        var log = new FireLog();
        var start = DateTimeOffset.FromUnixTimeSeconds(TimeProvider.System.GetUtcNow().ToUnixTimeSeconds() + 3);
        var a = await NodeAsync(log, start);
        var b = await NodeAsync(log, start);
        (await a.GetMetadata(Ct)).JobStoreClustered.Should().BeTrue();
        a.SchedulerInstanceId.Should().NotBe(b.SchedulerInstanceId, "each node checks in under an id of its own");

        await ServeWorkspace.Eventually(() => Task.FromResult(log.Fires.Select(f => f.Scheduled).Distinct().Count() >= 10), TimeSpan.FromSeconds(90),
            "the shared schedule fires ten times", () => string.Join('\n', log.Fires));
        await a.Shutdown(waitForJobsToComplete: true, Ct);
        await b.Shutdown(waitForJobsToComplete: true, Ct);

        log.Fires.GroupBy(f => f.Scheduled).Should().OnlyContain(g => g.Count() == 1, "each fire time runs on one node only: " + string.Join(", ", log.Fires));
    }

    public async ValueTask DisposeAsync()
    {
        foreach (var node in _nodes) await node.DisposeAsync();
        if (!_created) return;
        SqlConnection.ClearAllPools();
        await using var master = new SqlConnection(new SqlConnectionStringBuilder(Server) { InitialCatalog = "master" }.ConnectionString);
        await master.OpenAsync();
        await using var drop = master.CreateCommand();
        drop.CommandText = $"ALTER DATABASE [{_database}] SET SINGLE_USER WITH ROLLBACK IMMEDIATE; DROP DATABASE [{_database}];";
        await drop.ExecuteNonQueryAsync();
    }
}
