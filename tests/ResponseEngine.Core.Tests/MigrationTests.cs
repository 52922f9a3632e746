using ResponseEngine.Audit;

namespace ResponseEngine.Core.Tests;

/// <summary>How a store's embedded schema scripts are read: versioned, ordered, and never two of one version.</summary>
public sealed class MigrationTests
{
    [Fact]
    public void FromScripts_OrdersByVersion_AndChecksumsTheScript()
    {
        var migrations = EmbeddedMigrations.FromScripts([("V002__inbox.sql", "create table b (x);"), ("V001__audit.sql", "create table a (x);\r\n")]);

        migrations.Select(m => (m.Version, m.Name)).Should().Equal((1, "audit"), (2, "inbox"));
        migrations[0].Script.Should().Be("create table a (x);\n", "line endings are normalised before the checksum");
        migrations[0].Checksum.Should().HaveLength(64).And.NotBe(migrations[1].Checksum);
    }

    [Fact]
    public void FromScripts_TwoScriptsOfOneVersion_AreRefused()
    {
        // Both would be recorded as version 3; the second would never be applied.
        var read = () => EmbeddedMigrations.FromScripts([("V003__quartz.sql", "select 1;"), ("V003__audit_anchor.sql", "select 2;"), ("V001__audit.sql", "select 0;")]);

        read.Should().Throw<InvalidOperationException>()
            .WithMessage("*V003__audit_anchor and V003__quartz share version 3*next free number*");
    }

    [Fact]
    public void FromScripts_BadlyNamedFile_IsRefused()
    {
        var read = () => EmbeddedMigrations.FromScripts([("003_quartz.sql", "select 1;")]);

        read.Should().Throw<InvalidOperationException>().WithMessage("*'003_quartz.sql' is not named V<number>__<name>.sql*");
    }
}
