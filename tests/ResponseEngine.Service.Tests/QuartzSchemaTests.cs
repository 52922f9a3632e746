using System.Text.RegularExpressions;
using ResponseEngine.Service;
using ResponseEngine.TestKit;

namespace ResponseEngine.Service.Tests;

/// <summary>
/// Migration V003 carries Quartz's clustered job store tables: it must be the schema of the Quartz the engine is built
/// with (an upgrade that changes it fails here until a migration follows), use the table prefix `respond serve`
/// configures, and grant the tables to respond_scheduler only. (Every batch is also parsed as T-SQL by the audit tests.)
/// </summary>
public sealed partial class QuartzSchemaTests
{
    private static string Migration => File.ReadAllText(Path.Combine(RepoPaths.Root, "schemas", "sqlserver", "V003__quartz.sql")).ReplaceLineEndings("\n");

    /// <summary>Quartz's own SQL Server schema from Quartz.dll, as V003 writes it: the prefix filled in, statements split by GO.</summary>
    private static string QuartzSchema()
    {
        var assembly = typeof(Quartz.IScheduler).Assembly;
        using var stream = assembly.GetManifestResourceStream("Quartz.Impl.AdoJobStore.Schema.create_sqlServer.sql")
            ?? throw new InvalidOperationException("Quartz.dll no longer embeds create_sqlServer.sql; find where its schema went before upgrading");
        using var reader = new StreamReader(stream);
        var text = reader.ReadToEnd().ReplaceLineEndings("\n")
            .Replace("{0}", ServeHost.QuartzTablePrefix, StringComparison.Ordinal)
            .Replace("{1}", ServeHost.QuartzTablePrefix["dbo.".Length..], StringComparison.Ordinal);
        return string.Join('\n', text.Split('\n').Select(line => line == "--;;" ? "GO" : line)).TrimEnd('\n') + "\n";
    }

    [Fact]
    public void V003_IsTheSchemaOfTheQuartzTheEngineIsBuiltWith()
    {
        typeof(Quartz.IScheduler).Assembly.GetName().Version!.ToString(3).Should().Be("4.7.3", "V003's header names the Quartz version it comes from");
        Migration.Should().Contain(QuartzSchema());
        ServeHost.QuartzTablePrefix.Should().Be("dbo.QRTZ_");
    }

    [Fact]
    public void V003_GrantsEveryQuartzTableToRespondSchedulerOnly()
    {
        var tables = CreateTable().Matches(Migration).Select(m => m.Groups[1].Value).ToList();
        var grants = Grant().Matches(Migration).Select(m => (Permissions: m.Groups[1].Value, Table: m.Groups[2].Value, Role: m.Groups[3].Value)).ToList();

        tables.Should().HaveCount(15).And.Contain(["dbo.QRTZ_LOCKS", "dbo.QRTZ_SCHEDULER_STATE", "dbo.QRTZ_FIRED_TRIGGERS", "dbo.QRTZ_TRIGGERS"]);
        grants.Select(g => g.Table).Should().BeEquivalentTo(tables, "each table Quartz reads and writes is granted, and nothing else");
        grants.Should().OnlyContain(g => g.Role == "respond_scheduler" && g.Permissions == "SELECT, INSERT, UPDATE, DELETE");
        Migration.Should().Contain("CREATE ROLE respond_scheduler").And.NotContain("respond_writer;");
    }

    [GeneratedRegex(@"^\s*CREATE TABLE (dbo\.QRTZ_\w+) \(", RegexOptions.Multiline)]
    private static partial Regex CreateTable();

    [GeneratedRegex(@"^GRANT ([A-Z, ]+) ON (\S+) TO (\w+);", RegexOptions.Multiline)]
    private static partial Regex Grant();
}
