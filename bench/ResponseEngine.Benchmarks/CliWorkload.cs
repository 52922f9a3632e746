using System.Globalization;
using System.Text.Json;
using ResponseEngine.Findings;
using ResponseEngine.Identities;

namespace ResponseEngine.Benchmarks;

/// <summary>
/// `--write-cli-workload DIR [--findings N] [--rules R] [--users U]`: the benchmark workload (the same generator as the
/// in-process benchmarks) as files for the real CLI: DIR/rules/*.yaml, DIR/directory.json (schemas/directory.schema.json)
/// and DIR/findings.ndjson, so `respond plan` is measured as a user runs it (bench/plan-scaling.sh).
/// </summary>
public static class CliWorkload
{
    public static int Run(string[] args)
    {
        string Arg(string name, string fallback)
        {
            var index = Array.IndexOf(args, name);
            return index >= 0 && index + 1 < args.Length ? args[index + 1] : fallback;
        }

        var folder = Arg("--write-cli-workload", "workload");
        var findingCount = int.Parse(Arg("--findings", "100000"), CultureInfo.InvariantCulture);
        var ruleCount = int.Parse(Arg("--rules", "200"), CultureInfo.InvariantCulture);
        var userCount = int.Parse(Arg("--users", "10000"), CultureInfo.InvariantCulture);

        var rules = Path.Combine(folder, "rules");
        if (Directory.Exists(rules)) Directory.Delete(rules, recursive: true);
        foreach (var (file, bytes) in WorkloadGenerator.Rules(ruleCount))
        {
            var path = Path.Combine(folder, file);
            Directory.CreateDirectory(Path.GetDirectoryName(path)!);
            File.WriteAllBytes(path, bytes);
        }

        var directory = WorkloadGenerator.BuildDirectory(userCount);
        var exports = Enum.GetValues<Provider>().Select(p => new DirectoryExport(p, [.. directory.Users.Where(u => u.Provider == p)],
            [.. directory.Snapshot.Groups.Where(g => g.Provider == p)]));
        File.WriteAllBytes(Path.Combine(folder, "directory.json"), SnapshotWriter.Write(exports, WorkloadGenerator.Now));

        using (var stream = File.Create(Path.Combine(folder, "findings.ndjson")))
        {
            foreach (var finding in WorkloadGenerator.Findings(directory, findingCount))
            {
                using (var writer = new Utf8JsonWriter(stream))
                {
                    WriteFinding(writer, finding);
                }

                stream.WriteByte((byte)'\n');
            }
        }

        Console.WriteLine($"{folder}: {ruleCount} rules, {userCount} users, {findingCount} findings");
        return 0;
    }

    /// <summary>One finding as the canonical JSON object (schemas/finding.schema.json).</summary>
    public static void WriteFinding(Utf8JsonWriter writer, Finding finding)
    {
        ArgumentNullException.ThrowIfNull(writer);
        ArgumentNullException.ThrowIfNull(finding);
        writer.WriteStartObject();
        writer.WriteString("id", finding.Id);
        writer.WriteString("source", finding.Source);
        writer.WriteString("kind", finding.Kind == FindingKind.Posture ? "posture" : "detection");
        writer.WriteString("type", finding.Type);
        writer.WriteString("severity", finding.Severity.Name());
        writer.WriteString("observed_at", finding.ObservedAt.ToString("yyyy-MM-ddTHH:mm:ssZ", CultureInfo.InvariantCulture));
        writer.WriteStartObject("subject");
        writer.WriteString("provider", finding.Subject.Provider.Name());
        if (finding.Subject.Id is { } id) writer.WriteString("id", id);
        if (finding.Subject.Name is { } name) writer.WriteString("name", name);
        writer.WriteEndObject();
        writer.WriteString("title", finding.Title);
        writer.WriteStartObject("attributes");
        foreach (var (key, value) in finding.Attributes)
        {
            writer.WritePropertyName(key);
            value.WriteTo(writer);
        }

        writer.WriteEndObject();
        writer.WriteEndObject();
    }
}
