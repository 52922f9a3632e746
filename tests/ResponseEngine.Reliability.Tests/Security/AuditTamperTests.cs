using ResponseEngine.TestKit;
using Microsoft.Data.Sqlite;

namespace ResponseEngine.Reliability.Tests.Security;

/// <summary>A real trail from `respond run --once`, the triggers dropped (what someone with the file could do), then altered.</summary>
public sealed class AuditTrailFixture : IAsyncLifetime
{
    public TempDirectory Folder { get; } = new();

    public string Database => Path.Combine(Folder.Path, "respond.db");

    public async ValueTask InitializeAsync()
    {
        Respond.CopyDefaults(Folder.Path);
        var run = await Respond.RunAsync(Folder.Path, new Dictionary<string, string>(), "run", "--once");
        if (!File.Exists(Database)) throw new InvalidOperationException("respond run --once wrote no trail: " + run);
    }

    public ValueTask DisposeAsync()
    {
        SqliteConnection.ClearAllPools();
        Folder.Dispose();
        return ValueTask.CompletedTask;
    }
}

/// <summary>
/// `respond audit verify` on a trail someone edited by hand: a changed field, a deleted row, two rows swapped. Each breaks
/// the hash chain and the command fails naming the first bad row. (Cutting rows off the end, or rewriting the whole
/// chain, is not detectable from the file alone: see docs/threat-model.md.)
/// </summary>
public sealed class AuditTamperTests(AuditTrailFixture trail) : IClassFixture<AuditTrailFixture>
{
    [Fact]
    public async Task Verify_UntouchedTrail_IsIntact()
    {
        var copy = Copy("intact");
        var result = await VerifyAsync(copy);
        result.ExitCode.Should().Be(0, result.ToString());
        result.Output.Should().Contain("intact");
    }

    [Theory]
    [InlineData("reason", "'approved by nobody'")]
    [InlineData("status", "CASE WHEN status = 'succeeded' THEN 'failed' ELSE 'succeeded' END")]
    [InlineData("identity_id", "'someone-else-' || sequence")]
    [InlineData("parameters", "'{\"groups\":[\"x\"]}'")]
    public async Task Verify_RowEdited_FailsNamingTheRow(string column, string value)
    {
        var copy = Copy("edit-" + column);
        TrailEdits.Execute(copy, $"UPDATE audit_log SET {column} = {value} WHERE sequence = 5;");
        var result = await VerifyAsync(copy);
        result.ExitCode.Should().Be(1, result.ToString());
        result.Output.Should().Contain("BROKEN at row #5").And.Contain("changed after it was written");
    }

    [Fact]
    public async Task Verify_RowDeleted_FailsNamingTheGap()
    {
        var copy = Copy("delete");
        TrailEdits.Execute(copy, "DELETE FROM audit_log WHERE sequence = 7;");
        var result = await VerifyAsync(copy);
        result.ExitCode.Should().Be(1, result.ToString());
        result.Output.Should().Contain("BROKEN at row #7").And.Contain("row 7 is missing");
    }

    [Fact]
    public async Task Verify_RowsSwapped_FailsNamingTheFirst()
    {
        var copy = Copy("reorder");
        TrailEdits.Execute(copy, """
            UPDATE audit_log SET sequence = -3 WHERE sequence = 3;
            UPDATE audit_log SET sequence = 3 WHERE sequence = 4;
            UPDATE audit_log SET sequence = 4 WHERE sequence = -3;
            """);
        var result = await VerifyAsync(copy);
        result.ExitCode.Should().Be(1, result.ToString());
        result.Output.Should().Contain("BROKEN at row #3");
    }

    [Fact]
    public async Task Verify_RowForgedWithAValidLookingHash_FailsNamingIt()
    {
        var copy = Copy("forge");
        TrailEdits.Execute(copy, "UPDATE audit_log SET hash = previous_hash, error = NULL WHERE sequence = 9;");
        var result = await VerifyAsync(copy);
        result.ExitCode.Should().Be(1, result.ToString());
        result.Output.Should().Contain("BROKEN at row #9");
    }

    private string Copy(string name) => TrailEdits.Copy(trail.Database, trail.Folder.Path, name);

    private static Task<Respond.Result> VerifyAsync(string folder) => Respond.RunAsync(folder, new Dictionary<string, string>(), "audit", "verify");
}
