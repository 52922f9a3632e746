using System.Diagnostics;
using System.Globalization;

namespace ResponseEngine.Reliability.Tests.Crash;

/// <summary>Runs tests/ResponseEngine.CrashHost in a mode on a folder, killing itself at step CRASH_AT (0: never), and returns how it ended.</summary>
internal static class CrashHostProcess
{
    public static async Task<(int Code, string Output, string Error)> RunAsync(string mode, string dir, long crashAt)
    {
        var info = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        info.ArgumentList.Add(Path.Combine(AppContext.BaseDirectory, "ResponseEngine.CrashHost.dll"));
        info.ArgumentList.Add(mode);
        info.ArgumentList.Add(dir);
        info.Environment["CRASH_AT"] = crashAt.ToString(CultureInfo.InvariantCulture);
        using var process = Process.Start(info)!;
        using var deadline = new CancellationTokenSource(TimeSpan.FromMinutes(2));
        var output = process.StandardOutput.ReadToEndAsync(deadline.Token);
        var error = process.StandardError.ReadToEndAsync(deadline.Token);
        await process.WaitForExitAsync(deadline.Token);
        return (process.ExitCode, await output, await error);
    }
}
