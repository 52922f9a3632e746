using System.Collections.Immutable;
using System.Diagnostics;

namespace ResponseEngine.Policy.Rules;

/// <summary>
/// The git provenance of a rules folder: its HEAD commit and the files under it that differ from that commit, so a plan
/// or run from a work tree with uncommitted rule changes says so. Absent when the folder is not in a work tree or git is missing.
/// </summary>
public static class GitInfo
{
    public static string? HeadCommit(string directory)
    {
        var output = Git(directory, "rev-parse", "--verify", "-q", "HEAD")?.Trim();
        return output is { Length: >= 7 } ? output : null;
    }

    /// <summary>
    /// Files under <paramref name="directory"/> that are modified, added, deleted, renamed or untracked (ignored files
    /// aside), as paths from the work tree's root; empty when clean, outside git, or when git cannot tell.
    /// </summary>
    public static ImmutableArray<string> UncommittedFiles(string directory)
    {
        var output = Git(directory, "status", "--porcelain=v1", "-z", "--untracked-files=all", "--", ".");
        if (string.IsNullOrEmpty(output)) return [];
        var files = ImmutableArray.CreateBuilder<string>();
        var fields = output.Split('\0', StringSplitOptions.RemoveEmptyEntries);
        for (var i = 0; i < fields.Length; i++)
        {
            var field = fields[i];
            if (field.Length < 4) continue;
            files.Add(field[3..]);
            if (field[0] is 'R' or 'C') i++; // a rename or copy is followed by its original path
        }

        return files.ToImmutable();
    }

    private static string? Git(string directory, params string[] arguments)
    {
        try
        {
            var info = new ProcessStartInfo("git", ["-C", directory, .. arguments])
            {
                RedirectStandardOutput = true,
                RedirectStandardError = true,
                UseShellExecute = false,
            };
            using var process = Process.Start(info);
            if (process is null) return null;
            var error = process.StandardError.ReadToEndAsync();
            var output = process.StandardOutput.ReadToEnd();
            process.WaitForExit(5000);
            _ = error.Result;
            return process.ExitCode == 0 ? output : null;
        }
        catch (System.ComponentModel.Win32Exception)
        {
            return null;
        }
    }
}
