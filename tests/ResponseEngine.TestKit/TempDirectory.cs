namespace ResponseEngine.TestKit;

/// <summary>A scratch folder that is removed when the test ends.</summary>
public sealed class TempDirectory : IDisposable
{
    public TempDirectory()
        : this(System.IO.Path.GetTempPath())
    {
    }

    /// <summary>A scratch folder under <paramref name="root"/> (e.g. /dev/shm for tests that write a lot).</summary>
    public TempDirectory(string root)
    {
        Path = System.IO.Path.Combine(root, "respond-test-" + Guid.NewGuid().ToString("N")[..12]);
        Directory.CreateDirectory(Path);
    }

    public string Path { get; }

    public string Write(string relativePath, string content)
    {
        var full = System.IO.Path.Combine(Path, relativePath);
        Directory.CreateDirectory(System.IO.Path.GetDirectoryName(full)!);
        File.WriteAllText(full, content);
        return full;
    }

    public void Dispose()
    {
        try
        {
            Directory.Delete(Path, recursive: true);
        }
        catch (IOException)
        {
            // Best effort: a leftover temp folder is not a test failure.
        }
    }
}
