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

    /// <summary>
    /// The shipped rules, or the folder RESPOND_TEST_RULES names: the suite reruns every test that reads the shipped rules
    /// on a scratch copy with rules a user added (AddedRuleSuiteTests), so none of them may know the shipped rules' counts.
    /// </summary>
    public static string Rules => Environment.GetEnvironmentVariable(RulesVariable) is { Length: > 0 } rules ? rules : Path.Combine(Root, "rules");

    /// <summary>The environment variable that points <see cref="Rules"/> at another folder.</summary>
    public const string RulesVariable = "RESPOND_TEST_RULES";

    /// <summary>The trait (name, value) every test that reads <see cref="Rules"/> carries, so it can be rerun on a user's rules.</summary>
    public const string ReadsShippedRules = "ShippedRules";

    public static string Samples => Path.Combine(Root, "samples");

    public static string SampleFindings => Path.Combine(Root, "samples", "findings");

    public static string SampleDirectory => Path.Combine(Root, "samples", "directory.json");

    public static string Schema(string name) => Path.Combine(Root, "schemas", $"{name}.schema.json");
}
