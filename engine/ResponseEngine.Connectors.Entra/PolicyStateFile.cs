using System.Text.Json;
using System.Text.Json.Nodes;
using ResponseEngine.Execution;

namespace ResponseEngine.Connectors.Entra;

/// <summary>
/// The ids of the conditional-access policies the engine created, per tenant and policy name, in a small JSON file
/// (respond.state/entra-policies.json by default, beside the local directory's working copy). Every find-or-create and
/// every read-modify-write of a managed policy runs under an exclusive lock on a file beside it, so two engine processes
/// on one host neither create the policy twice nor lose each other's additions; the file is replaced atomically.
/// Losing the file is harmless: the policy is found again by its display name.
/// </summary>
internal sealed class PolicyStateFile(string path)
{
    // The lock is held by real work in another process (or another handle here): waiting for it is on the wall clock,
    // whatever clock the connector runs on, so a fake clock in tests cannot time it out while the holder works.
    private static readonly TimeProvider LockClock = TimeProvider.System;

    private static readonly TimeSpan LockTimeout = TimeSpan.FromSeconds(30);

    public string Path { get; } = System.IO.Path.GetFullPath(path);

    public string LockPath => Path + ".lock";

    /// <summary>The recorded policy id, or null.</summary>
    public string? Get(string tenantId, string policyName)
    {
        var root = Load();
        return root["tenants"]?[tenantId]?[policyName]?.GetValue<string>();
    }

    /// <summary>Every policy name recorded for the tenant.</summary>
    public IEnumerable<string> Names(string tenantId) =>
        Load()["tenants"]?[tenantId] is JsonObject tenant ? [.. tenant.Select(p => p.Key)] : [];

    /// <summary>Records (or, with null, forgets) a policy id; call only while holding <see cref="LockAsync"/>.</summary>
    public void Set(string tenantId, string policyName, string? policyId)
    {
        var root = Load();
        var tenants = root["tenants"] as JsonObject ?? new JsonObject();
        root["tenants"] = tenants;
        var tenant = tenants[tenantId] as JsonObject ?? new JsonObject();
        tenants[tenantId] = tenant;
        if (policyId is null) tenant.Remove(policyName);
        else tenant[policyName] = policyId;
        Directory.CreateDirectory(System.IO.Path.GetDirectoryName(Path)!);
        var temp = Path + "." + Guid.NewGuid().ToString("N")[..8] + ".tmp";
        try
        {
            File.WriteAllText(temp, root.ToJsonString(new JsonSerializerOptions { WriteIndented = true }));
            File.Move(temp, Path, overwrite: true);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            File.Delete(temp);
            throw new ConnectorException($"cannot record the conditional-access policy id in {Path}: {e.Message}", false, e);
        }
    }

    /// <summary>Takes the cross-process lock; dispose the result to release it.</summary>
    public async Task<IDisposable> LockAsync(CancellationToken cancellationToken)
    {
        Directory.CreateDirectory(System.IO.Path.GetDirectoryName(Path)!);
        var started = LockClock.GetTimestamp();
        var retry = TimeSpan.FromMilliseconds(10);
        while (true)
        {
            cancellationToken.ThrowIfCancellationRequested();
            try
            {
                return new FileStream(LockPath, FileMode.OpenOrCreate, FileAccess.ReadWrite, FileShare.None, 1, FileOptions.None);
            }
            catch (IOException) when (LockClock.GetElapsedTime(started) < LockTimeout)
            {
                await Task.Delay(retry, LockClock, cancellationToken).ConfigureAwait(false);
                retry = retry * 2 < TimeSpan.FromMilliseconds(200) ? retry * 2 : TimeSpan.FromMilliseconds(200);
            }
            catch (IOException e)
            {
                throw new ConnectorException($"the Entra policy state {LockPath} is locked by another process; gave up after {LockTimeout.TotalSeconds:0} s", true, e);
            }
            catch (UnauthorizedAccessException e)
            {
                throw new ConnectorException($"cannot open the lock file {LockPath}: {e.Message}", false, e);
            }
        }
    }

    private JsonObject Load()
    {
        try
        {
            return File.Exists(Path) ? JsonNode.Parse(File.ReadAllText(Path)) as JsonObject ?? new JsonObject() : new JsonObject { ["version"] = 1 };
        }
        catch (JsonException e)
        {
            throw new ConnectorException($"the Entra policy state {Path} is not valid JSON ({e.Message}); delete it and the policies are found again by name", false, e);
        }
        catch (IOException e)
        {
            throw new ConnectorException($"cannot read the Entra policy state {Path}: {e.Message}", true, e);
        }
    }
}
