using CsCheck;
using FluentAssertions;
using ResponseEngine.Execution;
using ResponseEngine.TestKit;

namespace ResponseEngine.Core.Tests;

/// <summary>
/// The rename that replaces the local directory's working copy and journal is made durable by flushing the folder too
/// (a power loss cannot be staged here; these check what can be: every replacement is whole, leaves no temporary file,
/// and a folder that cannot be flushed or written is an error naming it, never silence).
/// </summary>
public class DurableFolderTests
{
    [Fact]
    public void Flush_AnExistingFolder_Returns()
    {
        using var temp = new TempDirectory();
        var flush = () => DurableFolder.Flush(temp.Path);
        flush.Should().NotThrow();
    }

    [Fact]
    public void Flush_AMissingFolder_IsAnErrorNamingIt()
    {
        using var temp = new TempDirectory();
        var missing = Path.Combine(temp.Path, "gone");
        var flush = () => DurableFolder.Flush(missing);
        flush.Should().Throw<IOException>().WithMessage($"*{missing}*");
    }

    [Fact]
    public void ReplaceAsync_ReplacementsInAnyOrder_LeaveTheLastWholeAndNoTemporaryFile()
    {
        using var temp = new TempDirectory();
        Gen.Byte.Array[0, 4096].List[1, 6].Sample(contents =>
        {
            var target = Path.Combine(temp.Path, Guid.NewGuid().ToString("N"), "nested", "working.json"); // samples run on several threads
            foreach (var bytes in contents) DurableFolder.ReplaceAsync(target, bytes, CancellationToken.None).GetAwaiter().GetResult();
            File.ReadAllBytes(target).Should().Equal(contents[^1]);
            Directory.GetFiles(Path.GetDirectoryName(target)!).Should().Equal([target]);
        }, iter: 50);
    }

    [Fact]
    public async Task ReplaceAsync_OverAFolder_FailsAndLeavesNoTemporaryFile()
    {
        using var temp = new TempDirectory();
        var target = Path.Combine(temp.Path, "occupied");
        Directory.CreateDirectory(target);
        var replace = () => DurableFolder.ReplaceAsync(target, "{}"u8.ToArray(), CancellationToken.None);
        await replace.Should().ThrowAsync<IOException>();
        Directory.GetFiles(temp.Path).Should().BeEmpty();
    }

    [Fact]
    public async Task ReplaceAsync_Cancelled_LeavesTheTargetAsItWasAndNoTemporaryFile()
    {
        using var temp = new TempDirectory();
        var target = temp.Write("working.json", "before");
        var replace = () => DurableFolder.ReplaceAsync(target, "after"u8.ToArray(), new CancellationToken(canceled: true));
        await replace.Should().ThrowAsync<OperationCanceledException>();
        (await File.ReadAllTextAsync(target, TestContext.Current.CancellationToken)).Should().Be("before");
        Directory.GetFiles(temp.Path).Should().Equal([target]);
    }
}
