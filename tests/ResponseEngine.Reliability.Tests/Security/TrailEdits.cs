using Microsoft.Data.Sqlite;

namespace ResponseEngine.Reliability.Tests.Security;

/// <summary>What someone holding the audit file can do to it: take a copy, drop the append-only triggers and edit rows.</summary>
internal static class TrailEdits
{
    /// <summary>Copies the database into a new folder <paramref name="name"/> under <paramref name="root"/> (SQLite's online backup) and returns the folder.</summary>
    public static string Copy(string database, string root, string name)
    {
        var folder = Path.Combine(root, name);
        Directory.CreateDirectory(folder);
        SqliteConnection.ClearAllPools();
        using (var source = new SqliteConnection($"Data Source={database}"))
        using (var target = new SqliteConnection($"Data Source={Path.Combine(folder, "respond.db")}"))
        {
            source.Open();
            target.Open();
            source.BackupDatabase(target);
        }

        SqliteConnection.ClearAllPools();
        return folder;
    }

    /// <summary>Runs <paramref name="sql"/> on the folder's respond.db after dropping the triggers that refuse updates and deletes.</summary>
    public static void Execute(string folder, string sql)
    {
        using (var connection = new SqliteConnection($"Data Source={Path.Combine(folder, "respond.db")}"))
        {
            connection.Open();
            using var command = connection.CreateCommand();
            command.CommandText = "DROP TRIGGER IF EXISTS audit_log_no_update; DROP TRIGGER IF EXISTS audit_log_no_delete; " + sql;
            command.ExecuteNonQuery();
        }

        SqliteConnection.ClearAllPools();
    }
}
