using Microsoft.Data.Sqlite;
using ResponseEngine.Audit;
using ResponseEngine.TestKit;

namespace ResponseEngine.Reliability.Tests.Security;

/// <summary>A trail written by `respond run --once` with an audit key (RESPOND_AUDIT_KEY_FILE), the key kept outside the folder.</summary>
public sealed class KeyedTrailFixture : IAsyncLifetime
{
    public const string Key = "k3y-for-the-anchor-test-0123456789-ABCDEFGHIJKLMNOPQRSTUV";

    private readonly TempDirectory _secrets = new();

    public TempDirectory Folder { get; } = new();

    public string Database => Path.Combine(Folder.Path, "respond.db");

    public Dictionary<string, string> Environment { get; } = [];

    public Respond.Result Run { get; private set; } = null!;

    public async ValueTask InitializeAsync()
    {
        Environment[AuditAnchorKey.FileVariable] = _secrets.Write("audit.key", Key + "\n");
        Respond.CopyDefaults(Folder.Path);
        Run = await Respond.RunAsync(Folder.Path, Environment, "run", "--once");
        if (!File.Exists(Database)) throw new InvalidOperationException("respond run --once wrote no trail: " + Run);
    }

    public ValueTask DisposeAsync()
    {
        SqliteConnection.ClearAllPools();
        Folder.Dispose();
        _secrets.Dispose();
        return ValueTask.CompletedTask;
    }
}

/// <summary>
/// `respond audit verify` with the audit key on a trail whose tail someone cut by hand: the chain that is left is valid,
/// so only the signed anchor shows the cut. Without the key the same cut goes unnoticed, and verify says the anchor was
/// not checked.
/// </summary>
public sealed class AuditAnchorTests(KeyedTrailFixture trail) : IClassFixture<KeyedTrailFixture>
{
    [Fact]
    public async Task Verify_KeyedTrailUntouched_AnchorHoldsAndTheKeyIsNeverPrinted()
    {
        var copy = Copy("intact");

        var result = await VerifyAsync(copy, trail.Environment);

        result.ExitCode.Should().Be(0, result.ToString());
        result.Output.Should().Contain("hash chain verified").And.Contain("anchor holds");
        foreach (var text in new[] { result.Output, result.Error, trail.Run.Output, trail.Run.Error, File.ReadAllText(Path.Combine(copy, "respond.db"), System.Text.Encoding.Latin1) })
        {
            text.Should().NotContain(KeyedTrailFixture.Key[..20], "the key itself is never written anywhere");
        }
    }

    [Fact]
    public async Task Verify_TailCutByHand_ChainIntactButTheAnchorReportsTheTruncation()
    {
        var copy = Copy("cut");
        var last = Scalar(copy, "SELECT MAX(sequence) FROM audit_log");
        TrailEdits.Execute(copy, $"DELETE FROM audit_log WHERE sequence > {last - 3};");

        var result = await VerifyAsync(copy, trail.Environment);

        result.ExitCode.Should().Be(1, result.ToString());
        result.Output.Should().Contain("hash chain verified", "the rows left still chain")
            .And.Contain("BROKEN").And.Contain("truncated").And.Contain($"#{last}").And.Contain($"#{last - 3}");
        Reliability.Record("audit-anchor", $"tail cut by 3 rows of {last}: detected with the key");
    }

    [Fact]
    public async Task Verify_TailCutWithoutTheKey_IsNotNoticedAndVerifySaysTheAnchorWasNotChecked()
    {
        var copy = Copy("cut-no-key");
        var last = Scalar(copy, "SELECT MAX(sequence) FROM audit_log");
        TrailEdits.Execute(copy, $"DELETE FROM audit_log WHERE sequence > {last - 3};");

        var result = await VerifyAsync(copy, new Dictionary<string, string>());

        result.ExitCode.Should().Be(0, "without the key the chain alone cannot show a cut tail");
        result.Output.Should().Contain("anchor not checked").And.Contain(AuditAnchorKey.FileVariable);
    }

    [Fact]
    public async Task Verify_AnchorMovedToTheNewTailByHand_IsReportedAsForged()
    {
        var copy = Copy("forge");
        var last = Scalar(copy, "SELECT MAX(sequence) FROM audit_log");
        TrailEdits.Execute(copy, $"""
            DELETE FROM audit_log WHERE sequence > {last - 2};
            UPDATE audit_anchor SET sequence = {last - 2}, hash = (SELECT hash FROM audit_log WHERE sequence = {last - 2});
            """);

        var result = await VerifyAsync(copy, trail.Environment);

        result.ExitCode.Should().Be(1, result.ToString());
        result.Output.Should().Contain("altered or forged");
    }

    [Fact]
    public async Task Run_KeyTooShort_RefusesToStartNamingTheVariable()
    {
        var copy = Copy("short-key");

        var result = await Respond.RunAsync(copy, new Dictionary<string, string> { [AuditAnchorKey.Variable] = "short" }, "audit", "verify");

        result.ExitCode.Should().Be(2, result.ToString());
        (result.Output + result.Error).Should().Contain("audit key").And.Contain("at least 32").And.NotContain("short\n");
    }

    private string Copy(string name) => TrailEdits.Copy(trail.Database, trail.Folder.Path, name);

    private static long Scalar(string folder, string sql)
    {
        using var connection = new SqliteConnection($"Data Source={Path.Combine(folder, "respond.db")};Pooling=False");
        connection.Open();
        using var command = connection.CreateCommand();
        command.CommandText = sql;
        return (long)command.ExecuteScalar()!;
    }

    private static Task<Respond.Result> VerifyAsync(string folder, IReadOnlyDictionary<string, string> environment) =>
        Respond.RunAsync(folder, environment, "audit", "verify");
}
