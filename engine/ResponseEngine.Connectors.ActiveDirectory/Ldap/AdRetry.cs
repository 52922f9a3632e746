namespace ResponseEngine.Connectors.ActiveDirectory.Ldap;

/// <summary>Runs an LDAP operation again after a growing pause while the DC reports a transient fault; time comes from a <see cref="TimeProvider"/>.</summary>
internal sealed class AdRetry
{
    private readonly AdRetryOptions _options;
    private readonly TimeProvider _time;

    public AdRetry(AdRetryOptions options, TimeProvider time)
    {
        _options = options;
        _time = time;
    }

    public async Task<T> RunAsync<T>(Func<Task<T>> operation, CancellationToken cancellationToken)
    {
        for (var attempt = 1; ; attempt++)
        {
            try
            {
                return await operation();
            }
            catch (Exception e) when (attempt < _options.MaxAttempts && LdapFault.From(e) is { Transient: true })
            {
                await Task.Delay(_options.DelayBefore(attempt + 1), _time, cancellationToken);
            }
        }
    }
}
