using System.Collections;
using ResponseEngine.Configuration;
using ResponseEngine.Policy.Configuration;
using ResponseEngine.TestKit;

namespace ResponseEngine.Policy.Tests;

/// <summary>The `notifications` section of respond.yaml: read with its defaults, every mistake positioned, and no secret ever written in the file.</summary>
public class NotificationConfigTests
{
    private static readonly IDictionary NoEnvironment = new Hashtable();

    [Fact]
    public void Load_NotificationsSection_ReadsEveryTargetAndSetting()
    {
        using var temp = new TempDirectory();
        var file = temp.Write("respond.yaml", """
            notifications:
              queue: 50
              timeout: 3s
              attempts: 3
              retry_delay: 200ms
              max_retry_delay: 30s
              drain: 2s
              targets:
                soc: { kind: teams, url_env: TEAMS_URL }
                ops: { kind: slack, url_env: SLACK_URL, events: [breaker_opened, connector_unreachable] }
                siem: { kind: webhook, url: "https://hooks.corp.example/respond", secret_env: NOTIFY_KEY }
            """);

        var load = ConfigLoader.Load(file, NoEnvironment);

        load.Diagnostics.Should().BeEmpty();
        var n = load.Options!.Notifications;
        (n.Queue, n.Timeout, n.Attempts, n.RetryDelay, n.MaxRetryDelay, n.Drain).Should().Be((50, TimeSpan.FromSeconds(3), 3, TimeSpan.FromMilliseconds(200), TimeSpan.FromSeconds(30), TimeSpan.FromSeconds(2)));
        n.Targets.Select(t => (t.Name, t.Kind)).Should().Equal(("soc", "teams"), ("ops", "slack"), ("siem", "webhook"));
        n.Targets[0].Events.Should().Equal(NotificationEvents.All, "every event unless the target lists some");
        n.Targets[1].Events.Should().Equal(NotificationEvent.BreakerOpened, NotificationEvent.ConnectorUnreachable);
        n.Targets[2].Url.Should().Be("https://hooks.corp.example/respond");
        n.Targets[2].SecretEnv.Should().Be("NOTIFY_KEY");
    }

    [Fact]
    public void Load_NoNotificationsSection_HasNoTargets()
    {
        var load = ConfigLoader.Load(null, NoEnvironment);

        load.Options!.Notifications.Targets.Should().BeEmpty();
    }

    [Fact]
    public void Load_BadNotifications_GetsEveryProblemWithItsLineAndNeverEchoesASecret()
    {
        using var temp = new TempDirectory();
        var file = temp.Write("respond.yaml", """
            notifications:
              attempts: 0
              retry_delay: soon
              targets:
                soc: { kind: teams, url: "https://example.webhook.office.com/webhookb2/SECRET-PART" }
                ops: { kind: slak, url_env: SLACK_URL }
                siem: { kind: webhook, url: "ftp://hooks.corp.example" }
                pasted: { kind: webhook, url_env: HOOK_URL, secret_env: "s3cr3t-value-pasted-here!" }
                noisy: { kind: slack, url_env: SLACK_URL, events: [everything], colour: red }
                bare: { kind: slack }
            """);

        var load = ConfigLoader.Load(file, NoEnvironment);

        load.Options.Should().BeNull();
        var text = string.Join('\n', load.Diagnostics.Select(d => $"{d.Location.Line}: {d.Message}"));
        text.Should().Contain("2: ").And.Contain("3: 'retry_delay' is 'soon', not a duration");
        text.Should().Contain("5: 'notifications.targets.soc': the teams webhook URL is a credential");
        text.Should().Contain("6: ").And.Contain("slak");
        text.Should().Contain("7: 'notifications.targets.siem': 'url' is not an http(s) URL").And.Contain("missing required field 'secret_env' in 'notifications.targets.siem'");
        text.Should().Contain("8: 'notifications.targets.pasted': 'secret_env' must name an environment variable");
        text.Should().Contain("9: 'notifications.targets.noisy': unknown event 'everything'").And.Contain("colour");
        text.Should().Contain("missing required field 'url_env' in 'notifications.targets.bare'");
        text.Should().NotContain("SECRET-PART").And.NotContain("s3cr3t-value-pasted-here", "a value that may be a secret is never echoed");
    }
}
