namespace ResponseEngine.TestKit;

/// <summary>Locates the repository the tests run from, so they can read rules/, samples/ and schemas/.</summary>
public static class RepoPaths
{
    private static readonly Lazy<string> RootPath = new(() =>
    {
        var directory = new DirectoryInfo(AppContext.BaseDirectory);
        while (directory is not null && !File.Exists(Path.Combine(directory.FullName, "ResponseEngine.sln")))
        {
            directory = directory.Parent;
        }

        return directory?.FullName ?? throw new InvalidOperationException("ResponseEngine.sln not found above " + AppContext.BaseDirectory);
    });

    public static string Root => RootPath.Value;

    public static string Rules => Path.Combine(Root, "rules");

    public static string Samples => Path.Combine(Root, "samples");

    public static string SampleFindings => Path.Combine(Root, "samples", "findings");

    public static string SampleDirectory => Path.Combine(Root, "samples", "directory.json");

    public static string Schema(string name) => Path.Combine(Root, "schemas", $"{name}.schema.json");
}
