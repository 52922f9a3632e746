using System.Collections;
using ResponseEngine.Diagnostics;
using ResponseEngine.Policy.Configuration;
using ResponseEngine.Rules;
using ResponseEngine.TestKit;

namespace ResponseEngine.Policy.Tests;

/// <summary>The lint: section of respond.yaml, which `respond lint` checks rules against.</summary>
public class LintConfigTests
{
    [Fact]
    public void Load_LintSection_ReadsModesAndOwners()
    {
        using var temp = new TempDirectory();
        var file = temp.Write("respond.yaml", "lint:\n  require_expiry: [enforce, observe]\n  owners: [identity-security, soc]\n");

        var options = ConfigLoader.Load(file, new Hashtable()).Options!;

        options.Lint.RequireExpiry.Should().Equal(RuleMode.Enforce, RuleMode.Observe);
        options.Lint.Owners.Should().Equal("identity-security", "soc");
    }

    [Fact]
    public void Load_NoLintSection_AsksNothing()
    {
        ConfigLoader.Load(null, new Hashtable()).Options!.Lint.Should().Be(ResponseEngine.Configuration.LintOptions.None);
    }

    [Fact]
    public void Load_LintModeThatIsNotAMode_SaysWhere()
    {
        using var temp = new TempDirectory();
        var file = temp.Write("respond.yaml", "lint:\n  require_expiry: [enforced]\n");

        var load = ConfigLoader.Load(file, new Hashtable());

        load.Options.Should().BeNull();
        load.Diagnostics.Should().ContainSingle().Which.Should().Match<Diagnostic>(d =>
            d.Code == DiagnosticCodes.InvalidValue && d.Location.Line == 2 && d.Location.Column == 20 && d.Hint == "use enforce and/or observe");
    }

    [Fact]
    public void Load_LintOwnersFromTheEnvironment_AreACommaSeparatedList()
    {
        var options = ConfigLoader.Load(null, new Hashtable { ["RESPOND__LINT__OWNERS"] = "soc, identity-security" }).Options!;

        options.Lint.Owners.Should().Equal("soc", "identity-security");
    }
}
