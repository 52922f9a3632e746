using System.Diagnostics;
using FluentAssertions;

namespace ResponseEngine.TestKit;

/// <summary>A real git repository in a temporary folder, for `respond plan --base`.</summary>
public sealed class GitRepo : IDisposable
{
    private readonly TempDirectory _temp = new();

    public GitRepo()
    {
        Git("init", "-q");
    }

    public string Path => _temp.Path;

    public string Rules => System.IO.Path.Combine(_temp.Path, "rules");

    public string Write(string relativePath, string content) => _temp.Write(relativePath, content);

    public void Commit(string message)
    {
        Git("add", "-A");
        Git("-c", "user.email=ci@example.com", "-c", "user.name=ci", "commit", "-qm", message);
    }

    public void Git(params string[] args)
    {
        var info = new ProcessStartInfo("git") { WorkingDirectory = _temp.Path, RedirectStandardError = true, RedirectStandardOutput = true };
        foreach (var arg in args) info.ArgumentList.Add(arg);
        using var process = Process.Start(info)!;
        var error = process.StandardError.ReadToEndAsync();
        process.StandardOutput.ReadToEnd();
        process.WaitForExit();
        process.ExitCode.Should().Be(0, error.Result);
    }

    public void CopyIn(string source, string target)
    {
        foreach (var file in Directory.EnumerateFiles(source, "*", SearchOption.AllDirectories))
        {
            var destination = System.IO.Path.Combine(_temp.Path, target, System.IO.Path.GetRelativePath(source, file));
            Directory.CreateDirectory(System.IO.Path.GetDirectoryName(destination)!);
            File.Copy(file, destination);
        }
    }

    public void Dispose() => _temp.Dispose();
}
