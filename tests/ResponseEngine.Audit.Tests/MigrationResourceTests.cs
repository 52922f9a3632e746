namespace ResponseEngine.Audit.Tests;

public class MigrationResourceTests
{
    [Fact]
    public void Projects_AreWired()
    {
        typeof(AuditRecord).Assembly.GetName().Name.Should().Be("ResponseEngine.Core");
    }
}
