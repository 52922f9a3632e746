namespace ResponseEngine.Cli.Commands;

/// <summary>
/// Every file a command writes with --out: written to a temporary file beside the target and renamed over it once
/// complete, so a reader (or a second `respond` writing the same path at the same time) never sees half a file or a mix
/// of two; the last rename wins with one whole file. Devices such as /dev/null or /dev/stdout are written directly.
/// </summary>
internal static class OutFile
{
    public static void Write(string path, Action<Stream> write)
    {
        ArgumentNullException.ThrowIfNull(write);
        WriteAsync(path, stream =>
        {
            write(stream);
            return Task.CompletedTask;
        }).GetAwaiter().GetResult();
    }

    public static async Task WriteAsync(string path, Func<Stream, Task> write)
    {
        ArgumentNullException.ThrowIfNull(path);
        ArgumentNullException.ThrowIfNull(write);
        var full = Path.GetFullPath(path);
        if (IsDevice(full))
        {
            await using var device = new FileStream(full, FileMode.Open, FileAccess.Write, FileShare.ReadWrite, 1 << 16);
            await write(device);
            return;
        }

        var temp = Path.Combine(Path.GetDirectoryName(full)!, $".{Path.GetFileName(full)}.{Environment.ProcessId}-{Guid.NewGuid():N}.tmp");
        try
        {
            await using (var stream = new FileStream(temp, FileMode.CreateNew, FileAccess.Write, FileShare.None, 1 << 16))
            {
                await write(stream);
                await stream.FlushAsync();
            }

            File.Move(temp, full, overwrite: true);
        }
        finally
        {
            if (File.Exists(temp)) File.Delete(temp);
        }
    }

    public static Task WriteTextAsync(string path, string text) =>
        WriteAsync(path, async stream =>
        {
            await using var writer = new StreamWriter(stream, leaveOpen: true);
            await writer.WriteAsync(text);
        });

    /// <summary>/dev/null, /dev/stdout, /dev/fd/N, /proc/self/fd/N: not files to replace, but where to write.</summary>
    private static bool IsDevice(string full) =>
        !OperatingSystem.IsWindows() && (full.StartsWith("/dev/", StringComparison.Ordinal) || full.StartsWith("/proc/", StringComparison.Ordinal));
}
