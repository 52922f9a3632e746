namespace ResponseEngine.Benchmarks;

/// <summary>A clock that always reads the same instant, so plans and rule expiry do not depend on when the benchmark runs.</summary>
public sealed class FixedTimeProvider(DateTimeOffset now) : TimeProvider
{
    public override DateTimeOffset GetUtcNow() => now;
}
