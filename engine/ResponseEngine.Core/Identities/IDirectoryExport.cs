using ResponseEngine.Findings;

namespace ResponseEngine.Identities;

/// <summary>The accounts and groups one connector reads from its directory, as a snapshot writes them.</summary>
public sealed record DirectoryExport(Provider Provider, IReadOnlyList<UserEntry> Users, IReadOnlyList<Group> Groups);

/// <summary>
/// A connector that can read its whole directory (every account and group in its scope) for `respond snapshot`, so a
/// plan is reproducible offline. Read-only: exporting never changes the directory.
/// </summary>
public interface IDirectoryExport
{
    Provider Provider { get; }

    /// <summary>Every user and group in scope, paging through the directory; a failure aborts the export (no partial file).</summary>
    Task<DirectoryExport> ExportAsync(CancellationToken cancellationToken);
}
