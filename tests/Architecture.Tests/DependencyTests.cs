using System.Reflection;
using System.Text.RegularExpressions;
using ResponseEngine.TestKit;

namespace Architecture.Tests;

/// <summary>The dependency rules of DESIGN.md, checked on the built assemblies and the project files.</summary>
public partial class DependencyTests
{
    private static readonly Assembly Core = typeof(ResponseEngine.Findings.Finding).Assembly;
    private static readonly Assembly Policy = typeof(ResponseEngine.Policy.Rules.RuleLoader).Assembly;

    private static IEnumerable<string> OurReferences(Assembly assembly) =>
        assembly.GetReferencedAssemblies().Select(a => a.Name!).Where(n => n.StartsWith("ResponseEngine", StringComparison.Ordinal));

    [Fact]
    public void Core_DependsOnNothingOfOurs()
    {
        OurReferences(Core).Should().BeEmpty();
    }

    [Fact]
    public void Core_HasNoThirdPartyDependencies()
    {
        Core.GetReferencedAssemblies().Select(a => a.Name!)
            .Where(n => !n.StartsWith("System", StringComparison.Ordinal) && n != "netstandard" && n != "mscorlib")
            .Should().BeEmpty("Core holds the domain; parsers and SDKs live in the projects around it");
    }

    [Fact]
    public void Policy_DependsOnlyOnCore()
    {
        OurReferences(Policy).Should().BeEquivalentTo(["ResponseEngine.Core"]);
    }

    [Fact]
    public void EngineProjects_ReferenceNoProjectThatDependsOnThem()
    {
        // Connectors, audit stores and ingestion depend on Core and never on each other or on the CLI.
        foreach (var project in Directory.EnumerateFiles(Path.Combine(RepoPaths.Root, "engine"), "*.csproj", SearchOption.AllDirectories))
        {
            var name = Path.GetFileNameWithoutExtension(project);
            var references = ProjectReference().Matches(File.ReadAllText(project)).Select(m => Path.GetFileNameWithoutExtension(m.Groups[1].Value)).ToList();
            if (name is "ResponseEngine.Cli" or "ResponseEngine.Service") continue;
            references.Should().NotContain(r => r == "ResponseEngine.Cli" || r == "ResponseEngine.Service", $"{name} is a library");
            if (name.StartsWith("ResponseEngine.Connectors.", StringComparison.Ordinal) || name.StartsWith("ResponseEngine.Audit.", StringComparison.Ordinal))
            {
                references.Should().BeEquivalentTo(["ResponseEngine.Core"], $"{name} is an adapter behind a Core interface");
            }
        }
    }

    [Fact]
    public void Libraries_BanTheConsoleAndTheSystemClock()
    {
        var props = File.ReadAllText(Path.Combine(RepoPaths.Root, "Directory.Build.props"));
        props.Should().Contain("BannedSymbols.txt").And.Contain("BannedSymbols.Library.txt");
        File.ReadAllText(Path.Combine(RepoPaths.Root, "BannedSymbols.txt")).Should().Contain("P:System.DateTime.UtcNow").And.Contain("M:System.Threading.Thread.Sleep(System.Int32)");
        File.ReadAllText(Path.Combine(RepoPaths.Root, "BannedSymbols.Library.txt")).Should().Contain("T:System.Console");
        foreach (var project in Directory.EnumerateFiles(Path.Combine(RepoPaths.Root, "engine"), "*.csproj", SearchOption.AllDirectories))
        {
            var isExe = File.ReadAllText(project).Contains("<OutputType>Exe</OutputType>", StringComparison.Ordinal);
            File.ReadAllText(project).Contains("<IsEngineLibrary>true</IsEngineLibrary>", StringComparison.Ordinal).Should().Be(!isExe, project);
        }
    }

    [Fact]
    public void Records_InCore_AreImmutable()
    {
        var mutable = Core.GetTypes()
            .Where(t => t.IsPublic && t.GetMethod("<Clone>$") is not null)
            .SelectMany(t => t.GetProperties().Where(p => p.SetMethod is { IsPublic: true } setter
                && !setter.ReturnParameter.GetRequiredCustomModifiers().Contains(typeof(System.Runtime.CompilerServices.IsExternalInit)))
                .Select(p => $"{t.Name}.{p.Name}"))
            .ToList();

        mutable.Should().BeEmpty("data is immutable: records use init, not set");
    }

    [GeneratedRegex("<ProjectReference Include=\"([^\"]+)\"")]
    private static partial Regex ProjectReference();
}
