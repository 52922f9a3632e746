using CsCheck;
using Microsoft.Data.Sqlite;
using ResponseEngine.Audit.Sqlite;
using ResponseEngine.TestKit;

namespace ResponseEngine.Audit.Tests;

/// <summary>
/// A closed time-range search with no other indexed filter bounds the sequence first (the smallest and largest sequence
/// whose recorded_at is in the range, read off the recorded_at index) and then pages by sequence; other searches (an
/// open range, a range with a rule filter) take the plain query, and are compared here too. The bound is exact only if it never drops or adds a row,
/// whatever the order of the times: these trails are written by a clock that jumps back and forth (recorded_at is NOT
/// monotone in sequence, as after a clock step or with several writers), and every page of the bounded query must be
/// the page of the plain one.
/// </summary>
public sealed class SqliteTimeRangeSearchTests
{
    private static readonly DateTimeOffset Start = new(2026, 11, 1, 0, 0, 0, TimeSpan.Zero);

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    /// <summary>A clock set to any time, backwards too (FakeTimeProvider refuses to go back).</summary>
    private sealed class SteppedClock : TimeProvider
    {
        public DateTimeOffset Now { get; set; } = Start;

        public override DateTimeOffset GetUtcNow() => Now;
    }

    private sealed record Search(int? Since, int? Until, string? Rule, bool Descending, int PageSize);

    [Fact]
    public async Task BoundedTimeRangeSearch_PageByPage_ReturnsExactlyThePlainQuerysRows()
    {
        var trail = Gen.Select(Gen.Int[0, 120], Gen.Int[0, 2]).Array[0, 60];
        var search = Gen.Select(Gen.Int[-5, 125].Nullable(), Gen.Int[-5, 125].Nullable(), Gen.Int[0, 2].Select(r => r == 2 ? null : $"rule-{r}"), Gen.Bool, Gen.Int[1, 12])
            .Select((since, until, rule, descending, size) => new Search(since, until, rule, descending, size));

        await Gen.Select(trail, search.Array[1, 6]).SampleAsync(async (rows, searches) =>
        {
            using var folder = new TempDirectory();
            var time = new SteppedClock();
            var path = Path.Combine(folder.Path, SqliteAuditStore.DefaultFileName);
            await using var bounded = new SqliteAuditStore(path, time);
            await using var plain = new SqliteAuditStore(path, time) { BoundSequenceByTime = false };
            try
            {
                await bounded.InitializeAsync(Ct);
                foreach (var (minute, rule) in rows)
                {
                    time.Now = Start.AddMinutes(minute); // back and forth: time is not sequence order
                    await bounded.AppendAsync(new AuditEntry { RunId = "r", Host = "h", EngineVersion = "v", Actor = "a", Status = AuditStatus.Intended, RuleId = $"rule-{rule}" }, Ct);
                }

                foreach (var s in searches)
                {
                    var query = new AuditQuery
                    {
                        Since = s.Since is { } since ? Start.AddMinutes(since) : null,
                        Until = s.Until is { } until ? Start.AddMinutes(until) : null,
                        RuleId = s.Rule,
                        Descending = s.Descending,
                        Limit = s.PageSize,
                    };
                    var expected = await PagesAsync(plain, query);
                    var actual = await PagesAsync(bounded, query);
                    actual.Should().Equal(expected, $"{s} over recorded_at {string.Join(',', rows.Select(r => r.Item1))}");
                    (await bounded.CountAsync(query with { Limit = null }, Ct)).Should().Be(await plain.CountAsync(query with { Limit = null }, Ct));
                }
            }
            finally
            {
                SqliteConnection.ClearAllPools();
            }
        }, iter: 60, threads: 1);
    }

    [Fact]
    public async Task TimeRangeSearch_PlansTheBoundsOffTheRecordedAtIndex_AndWalksTheSequenceRange()
    {
        using var folder = new TempDirectory();
        var path = Path.Combine(folder.Path, SqliteAuditStore.DefaultFileName);
        await using (var store = new SqliteAuditStore(path, TimeProvider.System)) await store.InitializeAsync(Ct);
        try
        {
            var plan = await PlanAsync(path, SqliteAuditStore.FilterSql(new AuditQuery { Since = Start, Until = Start.AddDays(1), BeforeSequence = 10 }, boundByTime: true));

            plan.Should().Contain("ix_audit_log_recorded_at", "the bounds are read off the recorded_at index")
                .And.Contain("rowid>? AND rowid<?", "the page walks the sequence range between the bounds")
                .And.NotContain("TEMP B-TREE");
            plan.Should().NotMatchRegex(@"SCAN audit_log(?! USING)", "the table is never scanned whole");
        }
        finally
        {
            SqliteConnection.ClearAllPools();
        }
    }

    /// <summary>Every row of the query, a page at a time (keyset: after the last page's last sequence), with the page boundaries kept.</summary>
    private static async Task<List<string>> PagesAsync(SqliteAuditStore store, AuditQuery query)
    {
        var pages = new List<string>();
        var page = query;
        for (var guard = 0; guard < 100; guard++)
        {
            var rows = await store.ReadAsync(page, Ct);
            pages.Add(string.Join(',', rows.Select(r => r.Sequence)));
            if (rows.Count < query.Limit) return pages;
            page = query.Descending ? page with { BeforeSequence = rows[^1].Sequence } : page with { AfterSequence = rows[^1].Sequence };
        }

        throw new InvalidOperationException("paging did not end");
    }

    private static async Task<string> PlanAsync(string path, (string Where, List<KeyValuePair<string, object?>> Parameters) filter)
    {
        await using var connection = new SqliteConnection($"Data Source={path};Mode=ReadOnly");
        await connection.OpenAsync(Ct);
        await using var command = connection.CreateCommand();
        command.CommandText = "EXPLAIN QUERY PLAN SELECT sequence FROM audit_log" + filter.Where + " ORDER BY sequence DESC LIMIT 51";
        foreach (var (name, value) in filter.Parameters) command.Parameters.AddWithValue("@" + name, value);
        var lines = new List<string>();
        await using var reader = await command.ExecuteReaderAsync(Ct);
        while (await reader.ReadAsync(Ct)) lines.Add(reader.GetString(3));
        return string.Join('\n', lines);
    }
}
