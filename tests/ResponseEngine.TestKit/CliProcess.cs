using System.Diagnostics;

namespace ResponseEngine.TestKit;

/// <summary>Runs the built `respond` as a separate process, the way a user or CI runs it.</summary>
public static class CliProcess
{
    public sealed record Result(int ExitCode, string Output, string Error);

    public static string RespondDll
    {
        get
        {
            var local = Path.Combine(AppContext.BaseDirectory, "respond.dll");
            if (File.Exists(local) && File.Exists(Path.Combine(AppContext.BaseDirectory, "respond.runtimeconfig.json"))) return local;
            throw new FileNotFoundException("respond.dll (with its runtimeconfig) is not next to the tests", local);
        }
    }

    public static Task<Result> RunAsync(string workingDirectory, params string[] args) =>
        RunAsync(workingDirectory, new Dictionary<string, string>(), args);

    /// <summary>Runs `respond` with these environment variables added to the test process's own.</summary>
    public static async Task<Result> RunAsync(string workingDirectory, IReadOnlyDictionary<string, string> environment, params string[] args)
    {
        var info = new ProcessStartInfo("dotnet")
        {
            WorkingDirectory = workingDirectory,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        info.ArgumentList.Add(RespondDll);
        foreach (var arg in args) info.ArgumentList.Add(arg);
        info.Environment["NO_COLOR"] = "1";
        foreach (var (key, value) in environment) info.Environment[key] = value;
        using var process = Process.Start(info)!;
        using var timeout = new CancellationTokenSource(TimeSpan.FromMinutes(2));
        var output = process.StandardOutput.ReadToEndAsync(timeout.Token);
        var error = process.StandardError.ReadToEndAsync(timeout.Token);
        await process.WaitForExitAsync(timeout.Token);
        return new Result(process.ExitCode, await output, await error);
    }
}
