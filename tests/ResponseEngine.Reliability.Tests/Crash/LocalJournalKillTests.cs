using System.Text.Json.Nodes;
using CsCheck;
using ResponseEngine.Actions;
using ResponseEngine.Connectors.Local;
using ResponseEngine.Execution;
using ResponseEngine.Findings;
using ResponseEngine.Identities;
using ResponseEngine.TestKit;

namespace ResponseEngine.Reliability.Tests.Crash;

/// <summary>
/// The local directory's journal and compaction under SIGKILL, in a real child process (tests/ResponseEngine.CrashHost,
/// mode journal) killed at a generated durable step: before or after a journal line, halfway through one, around the
/// flush, around each file a compaction replaces. After each kill, a reader (as the next process would) must find every
/// change the killed process had acknowledged and nothing half-done: exactly the state after the acknowledged ops, or
/// after the one in flight too. Then the same ops are run again until one run ends, which must leave a working copy
/// that holds everything, with an empty journal.
/// </summary>
public sealed class LocalJournalKillTests
{
    private const int Users = 8;

    [Fact]
    public async Task Sigkill_AtGeneratedSteps_LosesNoAcknowledgedChangeAndLeavesNoneHalfDone()
    {
        var op = Gen.Select(Gen.Int[0, 9], Gen.Int[0, Users - 1]).Select((kind, user) => kind switch
        {
            < 3 => $"disable_user u{user}",
            < 5 => $"enable_user u{user}",
            < 7 => $"reset_password u{user}",
            < 9 => $"revoke_group u{user} G{user % 2}",
            _ => "compact",
        });
        var gen = Gen.Select(op.Array[1, 16], Gen.Int[1, 14].Array[1, 3]);
        await gen.SampleAsync(async (ops, kills) =>
        {
            using var dir = Reliability.ScratchDirectory();
            File.WriteAllText(Path.Combine(dir.Path, "directory.json"), Seed());
            File.WriteAllLines(Path.Combine(dir.Path, "ops.txt"), ops);
            var state = await ExportAsync(Path.Combine(dir.Path, "directory.json"), null);
            var notes = new List<string>();
            foreach (var at in kills.Append(0))
            {
                var expected = await ReferenceAsync(state, ops);
                var run = await RunHostAsync(dir.Path, at);
                var acked = run.Output.Split('\n').Count(l => l.StartsWith("ACK ", StringComparison.Ordinal));
                var killed = run.Output.Split('\n').FirstOrDefault(l => l.StartsWith("KILL ", StringComparison.Ordinal));
                notes.Add($"kill at {at}: {killed ?? "not reached"}, {acked} acknowledged");
                var because = $"ops [{string.Join(", ", ops)}]; {string.Join("; ", notes)}\n{run.Error}";
                var found = await ExportAsync(Path.Combine(dir.Path, "directory.json"), Path.Combine(dir.Path, "state", "directory.json"));
                if (killed is null)
                {
                    run.Code.Should().Be(0, because);
                    found.Should().Be(expected[ops.Length], because);
                    var journalPath = Path.Combine(dir.Path, "state", "directory.json.journal");
                    var journal = File.Exists(journalPath) ? await File.ReadAllTextAsync(journalPath) : "";
                    journal.Split('\n', StringSplitOptions.RemoveEmptyEntries).Should().HaveCountLessThanOrEqualTo(1, "closing folds the journal into the working copy; " + because);
                    var load = SnapshotReader.ReadFile(Path.Combine(dir.Path, "state", "directory.json"), PrivilegedPolicy.Default);
                    load.Snapshot.Should().NotBeNull(because);
                    NormalizedText(await File.ReadAllBytesAsync(Path.Combine(dir.Path, "state", "directory.json"))).Should().Be(expected[ops.Length], because);
                    Reliability.Record("local-journal", string.Join("; ", notes));
                    return;
                }

                run.Code.Should().NotBe(0, because);
                found.Should().BeOneOf([expected[acked], expected[Math.Min(acked + 1, ops.Length)]],
                    "every acknowledged change is there and the one in flight is there whole or not at all; " + because);
                state = found;
            }
        }, iter: 20, threads: 1);
    }

    /// <summary>Eight AD users, each in G0 or G1 and Domain Users.</summary>
    private static string Seed()
    {
        var users = Enumerable.Range(0, Users).Select(i => (JsonNode)new JsonObject
        {
            ["provider"] = "ad",
            ["id"] = $"u{i}",
            ["name"] = $"user{i}",
            ["groups"] = new JsonArray("Domain Users", $"G{i % 2}"),
        });
        var groups = new JsonArray(
            new JsonObject { ["provider"] = "ad", ["id"] = "g0", ["name"] = "G0" },
            new JsonObject { ["provider"] = "ad", ["id"] = "g1", ["name"] = "G1" });
        return System.Text.Encoding.UTF8.GetString(SnapshotFormat.Write(new JsonObject { ["version"] = 1, ["groups"] = groups, ["users"] = new JsonArray([.. users]) }));
    }

    /// <summary>The directory as a reader sees it (working copy and journal), in the snapshot layout; never closed here, so nothing is compacted.</summary>
    private static async Task<string> ExportAsync(string snapshot, string? working)
    {
        if (working is null)
        {
            return NormalizedText(await File.ReadAllBytesAsync(snapshot));
        }

        var reader = LocalDirectory.Open(snapshot, working, TimeProvider.System);
        return NormalizedText(await reader.ExportAsync(CancellationToken.None));
    }

    private static string NormalizedText(byte[] bytes) =>
        System.Text.Encoding.UTF8.GetString(SnapshotFormat.Write(JsonNode.Parse(bytes)!.AsObject()));

    /// <summary>The state after each prefix of the ops, applied in this process from <paramref name="start"/> without a kill.</summary>
    private static async Task<string[]> ReferenceAsync(string start, string[] ops)
    {
        using var scratch = new TempDirectory();
        var seed = Path.Combine(scratch.Path, "seed.json");
        await File.WriteAllTextAsync(seed, start);
        using var local = LocalDirectory.Open(seed, Path.Combine(scratch.Path, "state", "directory.json"), TimeProvider.System);
        var connector = local.Connector(Provider.Ad);
        var states = new List<string> { NormalizedText(await local.ExportAsync(CancellationToken.None)) };
        foreach (var line in ops)
        {
            var parts = line.Split(' ');
            if (parts[0] != "compact")
            {
                var parameters = parts.Length > 2 ? ActionParameters.Empty.With("groups", System.Collections.Immutable.ImmutableArray.Create(parts[2])) : ActionParameters.Empty;
                var request = new ActionRequest(ActionCatalogue.Default.Find(parts[0])!, parameters, new TargetRef(Provider.Ad, parts[1], parts[1]));
                if (!(await connector.ReadAsync(request, CancellationToken.None)).AlreadyDone) await connector.ApplyAsync(request, CancellationToken.None);
            }

            states.Add(NormalizedText(await local.ExportAsync(CancellationToken.None)));
        }

        return [.. states];
    }

    private static Task<(int Code, string Output, string Error)> RunHostAsync(string dir, long crashAt) => CrashHostProcess.RunAsync("journal", dir, crashAt);
}
