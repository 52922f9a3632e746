using System.Runtime.InteropServices;
using System.Text;

namespace ResponseEngine.Execution;

/// <summary>
/// Makes a rename durable. <see cref="File.Move(string, string, bool)"/> changes the folder's entry, and on POSIX file
/// systems that entry reaches the disk only when the folder itself is flushed (fsync on the directory), whatever was
/// done to the file's own bytes. Without it a power loss after a rename can bring back the old file, or the first of two
/// renames done in order without the second (the local directory's compaction: the working copy, then its new journal).
/// Windows has no directory flush to call here; there it does nothing.
/// </summary>
public static class DurableFolder
{
    private const int ReadOnly = 0;
    private const int InvalidArgument = 22; // EINVAL: a file system that cannot flush a folder (some network ones); nothing more to do

    /// <summary>Flushes the folder's entries (names, renames) to disk; an <see cref="IOException"/> naming the folder if it cannot.</summary>
    public static void Flush(string folder)
    {
        ArgumentNullException.ThrowIfNull(folder);
        if (OperatingSystem.IsWindows()) return;
        var descriptor = Open(Encoding.UTF8.GetBytes(folder + "\0"), ReadOnly);
        if (descriptor < 0) throw new IOException($"cannot open the folder {folder} to flush its entries to disk: {Marshal.GetLastPInvokeErrorMessage()}");
        try
        {
            if (Fsync(descriptor) != 0 && Marshal.GetLastPInvokeError() is var error && error != InvalidArgument)
            {
                throw new IOException($"cannot flush the folder {folder} to disk: {Marshal.GetPInvokeErrorMessage(error)}");
            }
        }
        finally
        {
            _ = Close(descriptor);
        }
    }

    /// <summary>Writes <paramref name="bytes"/> to a temporary file beside <paramref name="target"/>, flushes it, renames it over the target and flushes the folder.</summary>
    public static async Task ReplaceAsync(string target, ReadOnlyMemory<byte> bytes, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(target);
        var folder = Path.GetDirectoryName(Path.GetFullPath(target))!;
        Directory.CreateDirectory(folder);
        var temp = Path.Combine(folder, $".{Path.GetFileName(target)}.{Guid.NewGuid():N}.tmp");
        try
        {
            await using (var stream = new FileStream(temp, FileMode.CreateNew, FileAccess.Write, FileShare.None, 1 << 16, useAsync: true))
            {
                await stream.WriteAsync(bytes, cancellationToken);
                await stream.FlushAsync(cancellationToken);
                stream.Flush(flushToDisk: true);
            }

            File.Move(temp, target, overwrite: true);
            Flush(folder);
        }
        catch
        {
            TryDelete(temp);
            throw;
        }
    }

    private static void TryDelete(string path)
    {
        try
        {
            File.Delete(path);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            // A temporary file left behind is harmless (its name starts with a dot and ends in .tmp); the caller reports the first error.
        }
    }

    [DllImport("libc", EntryPoint = "open", SetLastError = true)]
    private static extern int Open(byte[] path, int flags); // the path as NUL-terminated UTF-8: no string marshalling

    [DllImport("libc", EntryPoint = "fsync", SetLastError = true)]
    private static extern int Fsync(int descriptor);

    [DllImport("libc", EntryPoint = "close", SetLastError = true)]
    private static extern int Close(int descriptor);
}
