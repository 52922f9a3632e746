using System.Diagnostics;

namespace ResponseEngine.Policy.Rules;

/// <summary>The git commit of a rules folder, for provenance; absent when the folder is not in a work tree or git is missing.</summary>
public static class GitInfo
{
    public static string? HeadCommit(string directory)
    {
        try
        {
            var info = new ProcessStartInfo("git", ["-C", directory, "rev-parse", "--verify", "-q", "HEAD"])
            {
                RedirectStandardOutput = true,
                RedirectStandardError = true,
                UseShellExecute = false,
            };
            using var process = Process.Start(info);
            if (process is null) return null;
            var output = process.StandardOutput.ReadToEnd().Trim();
            process.WaitForExit(5000);
            return process.ExitCode == 0 && output.Length >= 7 ? output : null;
        }
        catch (System.ComponentModel.Win32Exception)
        {
            return null;
        }
    }
}
