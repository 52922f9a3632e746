using ResponseEngine.Findings;
using ResponseEngine.Identities;
using ResponseEngine.TestKit;
using ResponseEngine.TestKit.ActiveDirectory;

namespace ResponseEngine.Connectors.ActiveDirectory.Tests;

/// <summary>`respond snapshot` run as a user runs it, against the Samba DC: the file it writes plans offline like the DC.</summary>
public sealed class AdSnapshotCliTests(SambaDc dc)
{
    private static CancellationToken Cancel => TestContext.Current.CancellationToken;

    [Fact]
    public async Task Snapshot_LiveAd_WritesEveryAccountAndGroupOfTheBaseDnWithNestingAndPrimaryGroups()
    {
        await using var h = await SambaHarness.StartAsync(dc, null, Cancel);
        var top = h.AddGroup("Snap Top");
        var admins = h.AddGroup("Snap Admins");
        h.AddMember(top, admins);
        h.AddMember(admins, h.AddUser("snapalice"));
        h.AddUser("snapbob", enabled: false);
        var carol = h.AddUser("snapcarol");
        h.AddMember(admins, carol);
        h.Replace(carol, "primaryGroupID", h.RidOf(admins).ToString(System.Globalization.CultureInfo.InvariantCulture));
        using var temp = new TempDirectory();
        var config = Config(temp, h, h.PasswordFile);
        var file = Path.Combine(temp.Path, "snapshot.json");

        var result = await CliProcess.RunAsync(temp.Path, "snapshot", "--config", config, "--out", file);

        result.ExitCode.Should().Be(0, result.Error);
        result.Output.Should().Contain("ad 3 users / 2 groups");
        SchemaValidator.Validate("directory", await File.ReadAllTextAsync(file, Cancel)).Should().BeEmpty();
        var snapshot = SnapshotReader.ReadFile(file, PrivilegedPolicy.Default with { Groups = PrivilegedPolicy.Default.Groups.SetItem(Provider.Ad, PrivilegedPolicy.Set("Snap Top")) }).Snapshot!;
        var alice = snapshot.Resolve(new Subject(Provider.Ad, null, "snapalice")).Identity!;
        alice.Enabled.Should().BeTrue();
        alice.TransitiveGroups.Should().Contain("Snap Top", "nesting is kept in the file");
        alice.Privileged.Should().BeTrue("privilege is worked out from the nesting when the file is read");
        snapshot.Resolve(new Subject(Provider.Ad, null, "snapbob")).Identity!.Enabled.Should().BeFalse();
        var carolCopy = snapshot.Resolve(new Subject(Provider.Ad, null, "snapcarol")).Identity!;
        carolCopy.PrimaryGroup.Should().Be("Snap Admins", "primaryGroupID is exported by name");
        carolCopy.Privileged.Should().BeTrue("a primary group nested in a privileged group makes a privileged account in the file too");
    }

    [Fact]
    public async Task Snapshot_WrongPassword_FailsAndWritesNothing()
    {
        await using var h = await SambaHarness.StartAsync(dc, null, Cancel);
        using var temp = new TempDirectory();
        var config = Config(temp, h, temp.Write("wrong-password", "not-the-password\n"));
        var file = Path.Combine(temp.Path, "snapshot.json");

        var result = await CliProcess.RunAsync(temp.Path, "snapshot", "--config", config, "--out", file);

        result.ExitCode.Should().Be(1, result.Output);
        result.Error.Should().Contain("exporting the ad directory failed").And.Contain("no snapshot written");
        Directory.GetFiles(temp.Path, "snapshot.json*").Should().BeEmpty("a failed export leaves no file, not even a partial one");
    }

    private static string Config(TempDirectory temp, SambaHarness h, string passwordFile) => temp.Write("respond.yaml", $"""
        connectors:
          ad:
            kind: ldap
            server: {h.Dc.Host}
            port: {h.Dc.Port}
            base_dn: "{h.Ou}"
            bind_dn: {SambaDc.AdminUpn}
            password_file: {passwordFile}
            ca_bundle: {h.Dc.CaFile}
            retry_attempts: 1
        """);
}
