using System.Text.RegularExpressions;
using ResponseEngine.Audit.Sqlite;
using ResponseEngine.Audit.SqlServer;

namespace ResponseEngine.Audit.Tests;

/// <summary>The anchor's shipped SQL: the T-SQL parses as SQL Server 2022 would, and neither dialect touches audit_log's rows.</summary>
public class AuditAnchorSqlTests
{
    [Fact]
    public void SqlServerAnchorStatements_ParseAsTSql160()
    {
        foreach (var text in SqlServerAnchorStatements.All) SqlTextTests.Parse(text, out _).Should().BeEmpty(text);
    }

    [Fact]
    public void AnchorStatements_WriteOnlyTheAnchorAndNeverDelete()
    {
        foreach (var text in SqlServerAnchorStatements.All.Concat([SqliteAnchorStatements.Select, SqliteAnchorStatements.Upsert]))
        {
            text.Should().NotContainEquivalentOf("audit_log");
            Regex.IsMatch(text, @"\b(DELETE|DROP|TRUNCATE|ALTER)\b", RegexOptions.IgnoreCase).Should().BeFalse(text);
        }
    }
}
