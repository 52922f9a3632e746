using Microsoft.Extensions.Time.Testing;
using ResponseEngine.Cli.Commands;
using ResponseEngine.Cli.Rendering;
using ResponseEngine.Configuration;
using ResponseEngine.Findings;
using ResponseEngine.Identities;
using ResponseEngine.Planning;
using ResponseEngine.Policy.Configuration;
using ResponseEngine.TestKit;

namespace ResponseEngine.Cli.Tests.PlanRendering;

/// <summary>
/// A plan made in process as `respond plan` makes it (the same rules, findings, snapshot, options and settings), held in
/// memory for the reference renderers, or streamed into a format's renderer.
/// </summary>
internal sealed class StreamedPlanFormats(string rules, string findings, string directory, string? config = null)
{
    private readonly FakeTimeProvider _time = new(Build.Now);

    public EngineOptions Options { get; } = ConfigLoader.Load(config).Options!;

    /// <summary>The whole plan at once (<see cref="PlanRun.PlanAsync"/>), as the renderers took it before they streamed.</summary>
    public async Task<Plan> InMemoryAsync()
    {
        var (ruleSet, snapshot) = Inputs();
        var all = FindingReader.Stream([findings], d => d.IsError.Should().BeFalse(d.ToString())).ToList();
        return await PlanRun.PlanAsync(ruleSet, all, snapshot, Options, Settings, _time, TestContext.Current.CancellationToken);
    }

    /// <summary>The plan streamed into <paramref name="renderer"/> as the command streams it, and written.</summary>
    public async Task<string> StreamedAsync(IPlanRenderer renderer)
    {
        var (ruleSet, snapshot) = Inputs();
        var stream = FindingReader.Stream([findings], d => d.IsError.Should().BeFalse(d.ToString()));
        var header = await PlanRun.StreamAsync(ruleSet, stream, snapshot, Options, Settings, _time, renderer, TestContext.Current.CancellationToken);
        var output = new StringWriter();
        renderer.WriteTo(header, output);
        return output.ToString();
    }

    /// <summary>The same plan through the command line, in process.</summary>
    public string Cli(string format, params string[] extra)
    {
        var output = new StringWriter();
        var error = new StringWriter();
        string[] configuration = config is null ? [] : ["--config", config];
        CliApp.Run(["plan", "--rules", rules, "--findings", findings, "--directory", directory, "--format", format, .. configuration, .. extra], output, error, new FakeTimeProvider(Build.Now))
            .Should().Be(0, error.ToString());
        return output.ToString();
    }

    public static string Reference(string format, Plan plan)
    {
        switch (format)
        {
            case "markdown": return ReferencePlanMarkdown.Build(plan);
            case "html": return ReferencePlanHtml.Build(plan);
            default:
                var writer = new StringWriter();
                ReferencePlanText.Render(plan, writer, color: false);
                return writer.ToString();
        }
    }

    private PlanSettings Settings => new() { DirectorySource = $"{directory} (--directory)" };

    private (Rules.RuleSet Rules, DirectorySnapshot Snapshot) Inputs()
    {
        var load = CommonOptions.LoadRules(rules, _time);
        load.RuleSet.Should().NotBeNull(string.Join('\n', load.Diagnostics));
        var snapshot = SnapshotReader.ReadFile(directory, Options.Privileged);
        snapshot.Snapshot.Should().NotBeNull(string.Join('\n', snapshot.Diagnostics));
        return (load.RuleSet!, snapshot.Snapshot!);
    }
}
