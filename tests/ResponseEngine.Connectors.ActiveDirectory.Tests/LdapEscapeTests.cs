using ResponseEngine.Connectors.ActiveDirectory.Ldap;

namespace ResponseEngine.Connectors.ActiveDirectory.Tests;

/// <summary>RFC 4515 filter values and RFC 4514 DN values; no domain controller needed.</summary>
public sealed class LdapEscapeTests
{
    [Theory]
    [InlineData("alice", "alice")]
    [InlineData("*", @"\2a")]
    [InlineData("admin*", @"admin\2a")]
    [InlineData("*)(objectClass=*", @"\2a\29\28objectClass=\2a")]
    [InlineData(@"a(b)c\d*", @"a\28b\29c\5cd\2a")]
    [InlineData("nul\0byte", @"nul\00byte")]
    [InlineData(@"\2a", @"\5c2a")]
    [InlineData("Smith, John \"JJ\" + Co", "Smith, John \"JJ\" + Co")]
    [InlineData("zoë Ünïcødé 日本", "zoë Ünïcødé 日本")]
    public void FilterValue_SpecialCharacters_AreEscapedPerRfc4515(string value, string expected)
    {
        LdapEscape.FilterValue(value).Should().Be(expected);
    }

    [Fact]
    public void FilterValue_InjectionAttempt_StaysOneAssertion()
    {
        var filter = $"(&(objectClass=user)(sAMAccountName={LdapEscape.FilterValue("*)(|(objectClass=*")}))";

        filter.Count(c => c == '(').Should().Be(3, "the value adds no parentheses of its own");
        filter.Should().NotContain("=*");
    }

    [Fact]
    public void FilterBytes_Guid_EveryByteHexEscaped()
    {
        var guid = Guid.Parse("01020304-0506-0708-090a-0b0c0d0e0f10");

        LdapEscape.FilterBytes(guid.ToByteArray()).Should().Be(@"\04\03\02\01\06\05\08\07\09\0a\0b\0c\0d\0e\0f\10");
    }

    [Theory]
    [InlineData("alice", "alice")]
    [InlineData("Smith, John", @"Smith\, John")]
    [InlineData("a+b", @"a\+b")]
    [InlineData("say \"hi\"", @"say \""hi\""")]
    [InlineData(@"back\slash", @"back\\slash")]
    [InlineData("semi;colon<less>more", @"semi\;colon\<less\>more")]
    [InlineData("x=y", @"x\=y")]
    [InlineData(" leading", @"\ leading")]
    [InlineData("trailing ", @"trailing\ ")]
    [InlineData("#hash", @"\#hash")]
    [InlineData("in#side", "in#side")]
    [InlineData("nul\0", @"nul\00")]
    [InlineData("*()", "*()")]
    [InlineData("zoë Ünïcødé", "zoë Ünïcødé")]
    [InlineData("", "")]
    public void DnValue_SpecialCharacters_AreEscapedPerRfc4514(string value, string expected)
    {
        LdapEscape.DnValue(value).Should().Be(expected);
    }

    [Fact]
    public void Rdn_ValueWithCommaAndPlus_CannotAddAnotherComponent()
    {
        var rdn = LdapEscape.Rdn("CN", "x,OU=Domain Controllers+CN=y");

        rdn.Should().Be(@"CN=x\,OU\=Domain Controllers\+CN\=y");
    }

    [Theory]
    [InlineData("")]
    [InlineData("CN=x")]
    [InlineData("c n")]
    public void Rdn_BadAttributeType_IsRefused(string attribute)
    {
        var act = () => LdapEscape.Rdn(attribute, "v");

        act.Should().Throw<ArgumentException>();
    }
}
