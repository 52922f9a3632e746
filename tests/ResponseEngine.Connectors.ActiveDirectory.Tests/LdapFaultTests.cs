using System.DirectoryServices.Protocols;
using Microsoft.Extensions.Time.Testing;
using ResponseEngine.Connectors.ActiveDirectory.Ldap;

namespace ResponseEngine.Connectors.ActiveDirectory.Tests;

/// <summary>LDAP result codes turned into connector outcomes, and the retry of transient ones on fake time; no DC needed.</summary>
public sealed class LdapFaultTests
{
    [Fact]
    public void ToConnectorException_InsufficientAccess_NamesTheMissingRightAndIsPermanent()
    {
        var fault = new LdapFault(50, "00002098: SecErr: DSID-03150F94, problem 4003 (INSUFF_ACCESS_RIGHTS), data 0");

        var error = fault.ToConnectorException("disabling the account", "CN=alice,DC=corp", "Write property userAccountControl on the user object");

        error.Message.Should().Contain("insufficient access rights").And.Contain("LDAP 50").And.Contain("Write property userAccountControl on the user object")
            .And.Contain("CN=alice,DC=corp").And.Contain("INSUFF_ACCESS_RIGHTS");
        error.Transient.Should().BeFalse();
    }

    [Theory]
    [InlineData(32, "does not exist", false)]
    [InlineData(19, "constraint", false)]
    [InlineData(49, "credentials", false)]
    [InlineData(53, "unwilling", false)]
    [InlineData(51, "busy", true)]
    [InlineData(52, "unavailable", true)]
    [InlineData(81, "ca_bundle", true)]
    [InlineData(85, "timed out", true)]
    [InlineData(80, "failed", false)]
    public void ToConnectorException_ResultCode_SaysWhatHappenedAndWhetherToRetry(int code, string words, bool transient)
    {
        var error = new LdapFault(code, "server text").ToConnectorException("an operation", "CN=x", "a right");

        error.Message.Should().Contain(words).And.Contain($"LDAP {code}").And.Contain("server text");
        error.Transient.Should().Be(transient);
    }

    [Fact]
    public void From_LdapException_KeepsTheCodeAndTheServersMessage()
    {
        var fault = LdapFault.From(new LdapException(49, "The supplied credential is invalid.", "80090308: LdapErr: DSID-0C0903A9, data 52e, v1db1"));

        fault.Should().NotBeNull();
        fault!.Code.Should().Be(49);
        fault.Message.Should().Contain("data 52e");
    }

    [Fact]
    public void From_OtherException_IsNotAnLdapFault()
    {
        LdapFault.From(new InvalidOperationException("bug")).Should().BeNull();
    }

    [Fact]
    public async Task Retry_BusyThenUnavailableThenSuccess_WaitsWithGrowingBackoffOnTheTimeProvider()
    {
        var time = new FakeTimeProvider();
        var retry = new AdRetry(new AdRetryOptions { MaxAttempts = 4, BaseDelay = TimeSpan.FromSeconds(1), MaxDelay = TimeSpan.FromSeconds(10) }, time);
        var attempts = 0;

        var run = retry.RunAsync(() =>
        {
            attempts++;
            return attempts switch
            {
                1 => throw new LdapException(51, "busy"),
                2 => throw new LdapException(52, "unavailable"),
                _ => Task.FromResult("ok"),
            };
        }, TestContext.Current.CancellationToken);

        attempts.Should().Be(1);
        time.Advance(TimeSpan.FromMilliseconds(999));
        attempts.Should().Be(1, "the first pause is one second");
        time.Advance(TimeSpan.FromMilliseconds(1));
        attempts.Should().Be(2);
        time.Advance(TimeSpan.FromMilliseconds(1999));
        attempts.Should().Be(2, "the second pause doubles");
        time.Advance(TimeSpan.FromMilliseconds(1));
        (await run).Should().Be("ok");
        attempts.Should().Be(3);
    }

    [Fact]
    public async Task Retry_PermanentFault_IsNotRetried()
    {
        var retry = new AdRetry(new AdRetryOptions(), new FakeTimeProvider());
        var attempts = 0;

        var act = () => retry.RunAsync<int>(() =>
        {
            attempts++;
            throw new LdapException(50, "insufficient access");
        }, TestContext.Current.CancellationToken);

        await act.Should().ThrowAsync<LdapException>();
        attempts.Should().Be(1);
    }

    [Fact]
    public async Task Retry_StillBusyAfterMaxAttempts_GivesUp()
    {
        var time = new FakeTimeProvider();
        var retry = new AdRetry(new AdRetryOptions { MaxAttempts = 3, BaseDelay = TimeSpan.FromSeconds(1) }, time);
        var attempts = 0;

        var run = retry.RunAsync<int>(() =>
        {
            attempts++;
            throw new LdapException(51, "busy");
        }, TestContext.Current.CancellationToken);
        time.Advance(TimeSpan.FromSeconds(1));
        time.Advance(TimeSpan.FromSeconds(2));

        await run.Invoking(r => r).Should().ThrowAsync<LdapException>();
        attempts.Should().Be(3);
    }

    [Fact]
    public void Options_MissingEverything_ReportsEveryProblemAtOnce()
    {
        var problems = new AdConnectorOptions { Port = 0, PasswordEnv = "X", PasswordFile = "/nonexistent", InsecureSkipCertificateValidation = true, CaBundle = "/nonexistent" }.Validate();

        problems.Should().HaveCountGreaterThanOrEqualTo(5);
        string.Join("\n", problems).Should().Contain("connectors.ad.server").And.Contain("base_dn").And.Contain("bind_dn").And.Contain("not both").And.Contain("contradict");
    }

    [Fact]
    public void Options_Negotiate_NeedsNoPassword()
    {
        new AdConnectorOptions { Server = "dc1.corp.example.com", BaseDn = "DC=corp,DC=example,DC=com", Authentication = AdAuthentication.Negotiate }
            .Validate().Should().BeEmpty();
    }

    [Fact]
    public void ReadPassword_FromEnvironmentOrFile_TrailingNewlineRemoved()
    {
        using var folder = new TestKit.TempDirectory();
        var file = folder.Write("pw", "s3cret!\n");

        new AdConnectorOptions { PasswordFile = file }.ReadPassword(_ => null).Should().Be("s3cret!");
        new AdConnectorOptions { PasswordEnv = "AD_PW" }.ReadPassword(name => name == "AD_PW" ? "from-env" : null).Should().Be("from-env");
        var missing = () => new AdConnectorOptions { PasswordEnv = "AD_PW" }.ReadPassword(_ => null);
        missing.Should().Throw<AdConfigurationException>().WithMessage("*AD_PW*");
    }

    [Fact]
    public void RandomPassword_IsLongAndMeetsComplexityAndDiffersEachTime()
    {
        var passwords = Enumerable.Range(0, 50).Select(_ => ResetPasswordAction.RandomPassword()).ToList();

        passwords.Should().OnlyHaveUniqueItems();
        passwords.Should().AllSatisfy(p =>
        {
            p.Should().HaveLength(24);
            p.Should().Match(x => x.Any(char.IsUpper) && x.Any(char.IsLower) && x.Any(char.IsDigit) && x.Any(c => !char.IsLetterOrDigit(c)));
        });
    }
}
