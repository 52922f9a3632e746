using System.Diagnostics;
using FluentAssertions;
using Xunit;

namespace ResponseEngine.TestKit;

/// <summary>Debian's headless Chromium, for the HTML pages (the DOM after the page's own rendering, and screenshots) and the console's browser tests.</summary>
public static class Chromium
{
    public const string Path = "/usr/bin/chromium";

    /// <summary>Fails under CI=true when Chromium is missing, skips elsewhere saying how to get it.</summary>
    public static void Require()
    {
        if (File.Exists(Path)) return;
        if (Environment.GetEnvironmentVariable("CI") == "true") Assert.Fail("Chromium is missing under CI=true; ./test.sh installs it when run as root");
        Assert.Skip("needs Chromium: run ./test.sh as root, or apt-get install chromium");
    }

    public static async Task<string> RunAsync(string profile, params string[] args)
    {
        var info = new ProcessStartInfo(Path) { RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var arg in (string[])["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
                     "--disable-component-update", "--disable-sync", "--user-data-dir=" + profile, .. args])
        {
            info.ArgumentList.Add(arg);
        }

        using var process = Process.Start(info)!;
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(90));
        var output = process.StandardOutput.ReadToEndAsync(timeout.Token);
        var error = process.StandardError.ReadToEndAsync(timeout.Token);
        await process.WaitForExitAsync(timeout.Token);
        process.ExitCode.Should().Be(0, await error);
        return await output;
    }
}
