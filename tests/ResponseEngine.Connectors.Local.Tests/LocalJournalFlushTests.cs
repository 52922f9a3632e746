using CsCheck;
using Microsoft.Extensions.Time.Testing;
using ResponseEngine.Actions;
using ResponseEngine.Connectors.Local;
using ResponseEngine.Execution;
using ResponseEngine.Findings;
using ResponseEngine.TestKit;

namespace ResponseEngine.Connectors.Local.Tests;

/// <summary>
/// The journal's flush to disk per batch: an apply writes its line (every reader sees it) without a flush of its own;
/// <see cref="IConnector.MakeDurableAsync"/> flushes once for every line written since, and not at all when none was; an
/// undo (restore) still flushes its own line; lines read from another process's journal are flushed before this process
/// could record them as done (the reconciler).
/// </summary>
public sealed class LocalJournalFlushTests
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    private static ActionRequest Disable(string id) => new(ActionCatalogue.Default.Find("disable_user")!, ActionParameters.Empty, new TargetRef(Provider.Ad, id, id));

    private static string Seed(int users) =>
        "{\"version\": 1, \"groups\": [], \"users\": [" + string.Join(", ", Enumerable.Range(0, users).Select(i => $"{{\"provider\": \"ad\", \"id\": \"u{i}\", \"name\": \"user{i}\"}}")) + "]}";

    [Fact]
    public async Task GeneratedApplies_OneFlushPerMakeDurable_AndEveryLineVisibleBeforeIt()
    {
        var gen = Gen.Int[1, 6].Array[1, 5];
        await gen.SampleAsync(async batches =>
        {
            using var folder = new TempDirectory();
            var seed = folder.Write("seed/directory.json", Seed(batches.Sum()));
            var working = Path.Combine(folder.Path, "state", "directory.json");
            var time = new FakeTimeProvider(LocalHarness.Start);
            using var local = LocalDirectory.Open(seed, working, time);
            var steps = new List<string>();
            local.OnStep = steps.Add;
            var connector = local.Connector(Provider.Ad);
            var next = 0;
            foreach (var size in batches)
            {
                steps.Clear();
                for (var i = 0; i < size; i++, next++) await connector.ApplyAsync(Disable($"u{next}"), Ct);

                // Written but not yet flushed: another reader (another process) already sees every change.
                steps.Should().NotContain("journal.flushed").And.Contain(s => s == "journal.written");
                var other = LocalDirectory.Open(seed, working, time);
                (await other.ReadSnapshotAsync(Ct)).Users.Count(u => !u.Enabled).Should().Be(next);

                await connector.MakeDurableAsync(Ct);
                await connector.MakeDurableAsync(Ct);
                steps.Count(s => s == "journal.sync").Should().Be(1, "one flush for the batch, none when nothing is new");
            }
        }, iter: 15, threads: 1);
    }

    [Fact]
    public async Task Restore_FlushesItsOwnLine_AndAReaderFlushesLinesItReadBeforeTheyCount()
    {
        using var folder = new TempDirectory();
        var seed = folder.Write("seed/directory.json", Seed(2));
        var working = Path.Combine(folder.Path, "state", "directory.json");
        var time = new FakeTimeProvider(LocalHarness.Start);
        using var writer = LocalDirectory.Open(seed, working, time);
        var connector = writer.Connector(Provider.Ad);
        var state = await connector.ReadAsync(Disable("u0"), Ct);
        await connector.ApplyAsync(Disable("u0"), Ct);
        var steps = new List<string>();
        writer.OnStep = steps.Add;
        await connector.RestoreAsync(Disable("u0"), state.PriorState, Ct);
        steps.Should().Contain("journal.flushed");

        // A second instance (as a reconciler in the next process) that read lines it did not write flushes them once.
        await connector.ApplyAsync(Disable("u1"), Ct);
        var reader = LocalDirectory.Open(seed, working, time);
        var readerSteps = new List<string>();
        reader.OnStep = readerSteps.Add;
        var readerConnector = reader.Connector(Provider.Ad);
        (await readerConnector.ReadAsync(Disable("u1"), Ct)).AlreadyDone.Should().BeTrue();
        await readerConnector.MakeDurableAsync(Ct);
        readerSteps.Count(s => s == "journal.sync").Should().Be(1);
    }
}
