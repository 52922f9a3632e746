using System.Collections;
using ResponseEngine.Diagnostics;
using ResponseEngine.Policy.Configuration;
using ResponseEngine.TestKit;

namespace ResponseEngine.Policy.Tests;

/// <summary>The `serve` section of respond.yaml: read with its defaults, overridden from the environment, and every mistake positioned.</summary>
public class ServeConfigTests
{
    private static readonly IDictionary NoEnvironment = new Hashtable();

    [Fact]
    public void Load_ServeSection_ReadsEveryFieldAndKeepsTheRestDefault()
    {
        using var temp = new TempDirectory();
        var file = temp.Write("respond.yaml", """
            serve:
              listen: http://0.0.0.0:9090
              max_body: 65536
              auth: { hmac_secret_env: MY_SECRET, replay_window: 2m }
              inbox: { batch_size: 20, lease: 10m }
            """);

        var load = ConfigLoader.Load(file, NoEnvironment);

        load.Diagnostics.Should().BeEmpty();
        var serve = load.Options!.Serve;
        serve.Listen.Should().Be("http://0.0.0.0:9090");
        serve.MaxBodyBytes.Should().Be(65536);
        serve.HmacSecretEnv.Should().Be("MY_SECRET");
        serve.ReplayWindow.Should().Be(TimeSpan.FromMinutes(2));
        serve.BatchSize.Should().Be(20);
        serve.Lease.Should().Be(TimeSpan.FromMinutes(10));
        serve.TokenEnv.Should().Be("RESPOND_WEBHOOK_TOKEN", "what the file leaves out keeps its default");
    }

    [Fact]
    public void Load_ServeFromTheEnvironment_OverridesTheFile()
    {
        using var temp = new TempDirectory();
        var file = temp.Write("respond.yaml", "serve:\n  listen: http://127.0.0.1:8080\n");

        var load = ConfigLoader.Load(file, new Hashtable { ["RESPOND__SERVE__LISTEN"] = "http://0.0.0.0:7070" });

        load.Diagnostics.Should().BeEmpty();
        load.Options!.Serve.Listen.Should().Be("http://0.0.0.0:7070");
    }

    [Fact]
    public void Load_BadServeSection_GetsEveryProblemWithItsLine()
    {
        using var temp = new TempDirectory();
        var file = temp.Write("respond.yaml", """
            serve:
              listen: ftp://example.com
              auth: { hmac_secrt_env: X }
              inbox: { batch_size: 0 }
              pollers:
                drop: { kind: folder }
            """);

        var load = ConfigLoader.Load(file, NoEnvironment);

        load.Options.Should().BeNull("a service never starts on half a configuration");
        var errors = load.Diagnostics.Where(d => d.IsError).ToList();
        errors.Should().Contain(d => d.Location.Line == 2 && d.Message.Contains("serve.listen", StringComparison.Ordinal));
        errors.Should().Contain(d => d.Location.Line == 3 && d.Code == DiagnosticCodes.UnknownKey && d.Hint == "did you mean 'hmac_secret_env'?");
        errors.Should().Contain(d => d.Location.Line == 4);
        errors.Should().Contain(d => d.Location.Line == 6 && d.Message.Contains("'path'", StringComparison.Ordinal));
        errors.Should().OnlyContain(d => d.Location.File == file);
    }
}
