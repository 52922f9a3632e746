using System.Diagnostics;
using System.Globalization;
using ResponseEngine.TestKit;

namespace ResponseEngine.Cli.Tests;

/// <summary>The plan's memory at a million findings, read from the running process.</summary>
public sealed partial class PlanStreamingTests
{
    /// <summary>
    /// A million findings through the real CLI `plan --format json` to /dev/null: the process's peak resident memory
    /// (VmHWM, read from /proc while it runs) stays under a cap far below what holding every finding takes (about 2 KB a
    /// finding when read whole). One in ten findings is of a type the rules match (about 117,000 decisions), so the
    /// test's CPU goes to reading, not to the guards. A bounded-memory property, not a timing.
    /// </summary>
    [Fact]
    public Task Plan_MillionFindingsAsJsonToDevNull_PeakMemoryStaysUnderTheCap() => AssertMillionFindingsPlanStaysUnderTheCapAsync("json");

    /// <summary>
    /// Runs the real CLI `plan --format <paramref name="format"/>` over a million findings (one in ten matched) to
    /// /dev/null, reads the process's VmHWM from /proc while it runs, and asserts it exits 0, says where the plan went
    /// and peaked under the cap.
    /// </summary>
    private async Task AssertMillionFindingsPlanStaysUnderTheCapAsync(string format)
    {
        const long capMb = 400;
        var (rules, snapshot, findings) = WriteWorkload(_temp.Path, users: 100, findingCount: 1_000_000, matchedEvery: 10);

        var info = new ProcessStartInfo("dotnet")
        {
            WorkingDirectory = _temp.Path,
            RedirectStandardOutput = false,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (var arg in new[] { CliProcess.RespondDll, "plan", "--rules", rules, "--directory", snapshot, "--findings", findings, "--format", format, "--at", At, "--out", "/dev/null" })
        {
            info.ArgumentList.Add(arg);
        }

        info.Environment["NO_COLOR"] = "1";
        using var process = Process.Start(info)!;
        var error = process.StandardError.ReadToEndAsync(TestContext.Current.CancellationToken);
        long peakKb = 0;
        var status = $"/proc/{process.Id}/status";
        while (!process.HasExited)
        {
            peakKb = Math.Max(peakKb, ReadHighWaterKb(status));
            await Task.Delay(20, TestContext.Current.CancellationToken);
        }

        await process.WaitForExitAsync(TestContext.Current.CancellationToken);
        var stderr = await error;
        TestContext.Current.TestOutputHelper?.WriteLine($"1,000,000 findings as {format}: peak RSS {peakKb / 1024} MB (cap {capMb} MB); {stderr}");
        process.ExitCode.Should().Be(0, stderr);
        stderr.Should().Contain("plan written to /dev/null");
        peakKb.Should().BePositive("the peak is read from the running process");
        (peakKb / 1024).Should().BeLessThan(capMb);
    }

    /// <summary>VmHWM (peak resident set) of a running process in kB; 0 once it is gone.</summary>
    private static long ReadHighWaterKb(string status)
    {
        try
        {
            foreach (var line in File.ReadLines(status))
            {
                if (line.StartsWith("VmHWM:", StringComparison.Ordinal))
                {
                    return long.Parse(line["VmHWM:".Length..].Replace("kB", "", StringComparison.Ordinal).Trim(), CultureInfo.InvariantCulture);
                }
            }
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            // Exited between the check and the read.
        }

        return 0;
    }
}
