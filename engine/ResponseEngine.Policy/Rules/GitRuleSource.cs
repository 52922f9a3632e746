using System.Diagnostics;
using System.Text;

namespace ResponseEngine.Policy.Rules;

/// <summary>Reads a rules folder as it was at a git ref, straight from the object store: no checkout, the work tree is untouched.</summary>
public static class GitRuleSource
{
    /// <summary>The rule files under <paramref name="rulesDirectory"/> at <paramref name="reference"/>, and the commit it names.</summary>
    public static (IReadOnlyList<(string File, byte[] Bytes)> Files, string Commit) Read(string rulesDirectory, string reference)
    {
        var top = Git(rulesDirectory, "rev-parse", "--show-toplevel").Trim();
        var prefix = Git(rulesDirectory, "rev-parse", "--show-prefix").Trim();
        var commit = Git(top, "rev-parse", "--verify", "-q", reference + "^{commit}").Trim();
        var files = new List<(string, byte[])>();
        var listing = Git(top, "ls-tree", "-r", "--name-only", commit, "--", prefix.Length == 0 ? "." : prefix);
        foreach (var path in listing.Split('\n', StringSplitOptions.RemoveEmptyEntries))
        {
            if (!path.EndsWith(".yaml", StringComparison.OrdinalIgnoreCase) && !path.EndsWith(".yml", StringComparison.OrdinalIgnoreCase)) continue;
            var relative = path[prefix.Length..];
            files.Add((Path.Join(rulesDirectory, relative), GitBytes(top, "show", $"{commit}:{path}")));
        }

        return (files, commit);
    }

    private static string Git(string directory, params string[] args) => Encoding.UTF8.GetString(GitBytes(directory, args));

    private static byte[] GitBytes(string directory, params string[] args)
    {
        var info = new ProcessStartInfo("git") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        info.ArgumentList.Add("-C");
        info.ArgumentList.Add(directory);
        foreach (var arg in args) info.ArgumentList.Add(arg);
        Process process;
        try
        {
            process = Process.Start(info) ?? throw new InvalidOperationException("git did not start");
        }
        catch (System.ComponentModel.Win32Exception e)
        {
            throw new GitException($"git is not installed or not on PATH: {e.Message}");
        }

        using (process)
        {
            using var output = new MemoryStream();
            var error = process.StandardError.ReadToEndAsync();
            process.StandardOutput.BaseStream.CopyTo(output);
            process.WaitForExit();
            if (process.ExitCode != 0)
            {
                throw new GitException($"git {string.Join(' ', args)} failed: {error.Result.Trim()}");
            }

            return output.ToArray();
        }
    }
}

/// <summary>A git command failed; the message says which and why.</summary>
public sealed class GitException : Exception
{
    public GitException(string message)
        : base(message)
    {
    }

    public GitException()
    {
    }

    public GitException(string message, Exception inner)
        : base(message, inner)
    {
    }
}
