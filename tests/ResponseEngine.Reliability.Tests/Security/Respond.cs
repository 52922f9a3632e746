using System.Diagnostics;
using ResponseEngine.TestKit;

namespace ResponseEngine.Reliability.Tests.Security;

/// <summary>Runs the built `respond` as a process in a working folder with extra environment variables.</summary>
public static class Respond
{
    public sealed record Result(string Command, int ExitCode, string Output, string Error)
    {
        public override string ToString() => $"respond {Command} → {ExitCode}\n{Output}\n{Error}";
    }

    public static async Task<Result> RunAsync(string workingDirectory, IReadOnlyDictionary<string, string> environment, params string[] args)
    {
        var info = new ProcessStartInfo("dotnet")
        {
            WorkingDirectory = workingDirectory,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        info.ArgumentList.Add(CliProcess.RespondDll);
        foreach (var arg in args) info.ArgumentList.Add(arg);
        info.Environment["NO_COLOR"] = "1";
        foreach (var (key, value) in environment) info.Environment[key] = value;
        using var process = Process.Start(info)!;
        using var timeout = new CancellationTokenSource(TimeSpan.FromMinutes(3));
        var output = process.StandardOutput.ReadToEndAsync(timeout.Token);
        var error = process.StandardError.ReadToEndAsync(timeout.Token);
        await process.WaitForExitAsync(timeout.Token);
        return new Result(string.Join(' ', args), process.ExitCode, await output, await error);
    }

    /// <summary>Copies rules/ and samples/ of the repository into <paramref name="folder"/>, so the defaults work there.</summary>
    public static void CopyDefaults(string folder)
    {
        foreach (var name in new[] { "rules", "samples" })
        {
            var source = Path.Combine(RepoPaths.Root, name);
            foreach (var file in Directory.EnumerateFiles(source, "*", SearchOption.AllDirectories))
            {
                var target = Path.Combine(folder, name, Path.GetRelativePath(source, file));
                Directory.CreateDirectory(Path.GetDirectoryName(target)!);
                File.Copy(file, target);
            }
        }
    }
}
