using CsCheck;
using System.Text;
using ResponseEngine.Findings;
using ResponseEngine.Identities;
using ResponseEngine.TestKit;

namespace ResponseEngine.Core.Tests;

/// <summary>Issue #21: accounts link across providers by exact anchors only; two candidates or a conflict is a refusal, and links are symmetric.</summary>
public class LinkingTests
{
    private const string AliceSid = "S-1-5-21-1004336348-1177238915-682003330-1104";
    private static readonly Guid AliceGuid = Guid.Parse("3f2504e0-4f89-11d3-9a0c-0305e82c3301");
    private static readonly LinkOptions ByLogin = new([LinkAttribute.Login]);

    private static Identity Ad(Guid id, string name, string? sid = null, string? upn = null) =>
        new(Provider.Ad, id.ToString("D"), name) { Sid = sid, Upn = upn };

    private static Identity Entra(string id, string upn, string? sid = null, Guid? anchor = null) =>
        new(Provider.Entra, id, upn) { Upn = upn, OnPremisesSid = sid, OnPremisesImmutableId = anchor is { } g ? ImmutableIds.FromGuid(g) : null };

    private static Identity Okta(string id, string login) => new(Provider.Okta, id, login);

    [Fact]
    public void AdAndEntra_LinkBySidAndImmutableId_WithTheEvidence()
    {
        var ad = Ad(AliceGuid, "alice", AliceSid, "alice@corp.example.com");
        var entra = Entra("e-1", "alice@corp.example.com", AliceSid, AliceGuid);
        var okta = Okta("00u1", "alice@corp.example.com");
        var linker = new IdentityLinker([ad, entra, okta, Entra("e-2", "bob@corp.example.com", "S-1-5-21-1-2-3-1105")], ByLogin);

        var person = linker.Link(ad);

        person.Refusals.Should().BeEmpty();
        person.Linked.Select(l => l.Account.Id).Should().Equal("e-1", "00u1");
        person.In(Provider.Entra)!.Evidence.Should().Be(
            $"objectSid {AliceSid} = onPremisesSecurityIdentifier, objectGUID {AliceGuid:D} = onPremisesImmutableId {ImmutableIds.FromGuid(AliceGuid)}");
        person.In(Provider.Okta)!.Evidence.Should().Be("Okta login alice@corp.example.com = AD userPrincipalName");
        linker.Link(okta).Accounts.Select(a => a.Id).Should().BeEquivalentTo([okta.Id, ad.Id, entra.Id], "the same person from any of its accounts");
    }

    [Fact]
    public void ImmutableId_IsTheBase64OfTheObjectGuidBytes()
    {
        // Microsoft: the default sourceAnchor is objectGUID, and ImmutableId is its base64 (Convert-ObjectGUIDToImmutableID).
        ImmutableIds.FromGuid(AliceGuid).Should().Be(Convert.ToBase64String(AliceGuid.ToByteArray()));
        ImmutableIds.ToGuid(ImmutableIds.FromGuid(AliceGuid)).Should().Be(AliceGuid);
        ImmutableIds.ToGuid("not base64").Should().BeNull();
        ImmutableIds.ToGuid(Convert.ToBase64String(new byte[15])).Should().BeNull();
    }

    [Fact]
    public void ConsistencyGuid_IsTheAnchorWhereSet()
    {
        var other = Guid.Parse("0b7c7a3e-1d22-4a51-9f6d-2b9a0d6f3c11");
        var ad = Ad(AliceGuid, "alice") with { ConsistencyGuid = other.ToString("D") };
        var linker = new IdentityLinker([ad, Entra("e-1", "alice@corp.example.com", anchor: other)]);

        linker.Link(ad).In(Provider.Entra)!.Evidence.Should().StartWith($"ms-DS-ConsistencyGuid {other:D} = onPremisesImmutableId");
        new IdentityLinker([ad, Entra("e-1", "alice@corp.example.com", anchor: AliceGuid)]).Link(ad).In(Provider.Entra).Should()
            .BeNull("the objectGUID is not the anchor when ms-DS-ConsistencyGuid is");
    }

    [Fact]
    public void ConflictingAnchors_AreRefused()
    {
        var ad = Ad(AliceGuid, "alice", AliceSid);
        var linker = new IdentityLinker([ad, Entra("e-1", "alice@corp.example.com", AliceSid, Guid.NewGuid())]);

        var person = linker.Link(ad);

        person.Linked.Should().BeEmpty();
        person.RefusedIn(Provider.Entra)!.Reason.Should().StartWith("conflicting link between alice (ad) and alice@corp.example.com (entra): objectSid")
            .And.Contain("but objectGUID").And.EndWith("refusing to link");
    }

    [Fact]
    public void TwoCandidates_AreRefusedFromEitherSide()
    {
        var ad = Ad(AliceGuid, "alice", upn: "alice@corp.example.com");
        var ad2 = Ad(Guid.NewGuid(), "alice2", upn: "ALICE@corp.example.com");
        var okta = Okta("00u1", "alice@corp.example.com");
        var linker = new IdentityLinker([ad, ad2, okta], ByLogin);

        linker.Link(okta).RefusedIn(Provider.Ad)!.Reason.Should().StartWith("2 ad accounts match alice@corp.example.com").And.EndWith("refusing to guess");
        linker.Link(ad).In(Provider.Okta).Should().BeNull("the Okta account matches two AD accounts: not a link from either side");
        linker.Link(ad).RefusedIn(Provider.Okta)!.Reason.Should().Contain("matches 2 ad accounts");
    }

    [Fact]
    public void Okta_LinksOnlyByConfiguredAttributes()
    {
        var ad = Ad(AliceGuid, "alice", upn: "alice@corp.example.com") with { Email = "alice@corp.example.com", EmployeeId = "E1" };
        var okta = Okta("00u1", "alice@corp.example.com") with { Email = "alice@corp.example.com", EmployeeId = "E2" };

        new IdentityLinker([ad, okta]).Link(ad).Linked.Should().BeEmpty("no attribute is matched unless configured");
        new IdentityLinker([ad, okta], new([LinkAttribute.Email])).Link(ad).In(Provider.Okta)!.Evidence.Should().Be("Okta email alice@corp.example.com = AD mail");
        new IdentityLinker([ad, okta], new([LinkAttribute.Login, LinkAttribute.EmployeeId])).Link(ad).RefusedIn(Provider.Okta)!.Reason.Should()
            .Contain("but Okta employeeNumber E2 ≠ AD employeeID E1", "every configured attribute both accounts have must agree");
    }

    [Fact]
    public void Entra_ReachesOktaThroughItsAdAccount()
    {
        var ad = Ad(AliceGuid, "alice", AliceSid, "alice@corp.example.com");
        var entra = Entra("e-1", "alice@corp.onmicrosoft.com", AliceSid);
        var okta = Okta("00u1", "alice@corp.example.com");

        var person = new IdentityLinker([ad, entra, okta], ByLogin).Link(entra);

        person.In(Provider.Okta)!.Evidence.Should().Be("Okta login alice@corp.example.com = AD userPrincipalName, via alice@corp.example.com (ad)");
    }

    [Fact]
    public void Snapshot_LinkFields_RoundTripAndAreChecked()
    {
        var immutable = ImmutableIds.FromGuid(AliceGuid);
        var json = $$"""
            {"users": [
              {"provider": "ad", "id": "{{AliceGuid:D}}", "name": "alice", "sid": "{{AliceSid}}", "employee_id": "E1", "consistency_guid": "{{AliceGuid:D}}"},
              {"provider": "entra", "id": "e-1", "name": "alice@corp.example.com", "on_premises_sid": "{{AliceSid}}", "on_premises_immutable_id": "{{immutable}}"}
            ]}
            """;
        var load = SnapshotReader.Read(Encoding.UTF8.GetBytes(json), "dir.json", PrivilegedPolicy.Default);
        load.Diagnostics.Should().BeEmpty();
        var written = SnapshotWriter.Write([new DirectoryExport(Provider.Ad, [.. load.Snapshot!.Users.Select(SnapshotWriter.Entry)], [])], Build.Now);
        var again = SnapshotReader.Read(written, "again.json", PrivilegedPolicy.Default).Snapshot!;
        var entra = again.Users.Single(u => u.Provider == Provider.Entra);
        (entra.OnPremisesSid, entra.OnPremisesImmutableId).Should().Be((AliceSid, immutable));
        again.Users.Single(u => u.Provider == Provider.Ad).EmployeeId.Should().Be("E1");
        SchemaValidator.Validate("directory", Encoding.UTF8.GetString(written)).Should().BeEmpty();

        var bad = SnapshotReader.Read(Encoding.UTF8.GetBytes("""
            {"users": [
              {"provider": "ad", "id": "1", "name": "a", "on_premises_sid": "S-1-5-21-1-2-3-4"},
              {"provider": "entra", "id": "2", "name": "b", "on_premises_immutable_id": "AAAA"},
              {"provider": "entra", "id": "3", "name": "c", "on_premises_sid": "S-1-5-21-1-2-3-9"},
              {"provider": "entra", "id": "4", "name": "d", "on_premises_sid": "S-1-5-21-1-2-3-9"},
              {"provider": "okta", "id": "5", "name": "e", "consistency_guid": "not-a-guid"}
            ]}
            """), "dir.json", PrivilegedPolicy.Default);
        bad.Snapshot.Should().BeNull();
        bad.Diagnostics.Select(d => (d.Location.Line, d.Message.Split(';')[0])).Should().BeEquivalentTo(new[]
        {
            (2, "'on_premises_sid' is an Entra ID property (onPremisesSecurityIdentifier)"),
            (3, "field 'on_premises_immutable_id' is 'AAAA', not the base64 of 16 bytes (an objectGUID)"),
            (5, "duplicate on_premises_sid 'S-1-5-21-1-2-3-9': an anchor names one account"),
            (6, "'consistency_guid' is an AD property (ms-DS-ConsistencyGuid)"),
        });
    }

    /// <summary>A population where anchors collide often: few SIDs, GUIDs and logins shared among up to 12 accounts.</summary>
    private static readonly Gen<List<Identity>> Population =
        Gen.Select(Gen.Int[0, 2], Gen.Int[0, 3], Gen.Int[0, 3], Gen.Int[0, 2], Gen.Bool)
            .List[1, 12]
            .Select(specs =>
            {
                var guids = new[] { AliceGuid, Guid.Parse("0b7c7a3e-1d22-4a51-9f6d-2b9a0d6f3c11"), Guid.Parse("9d3f1c2a-5e6b-4c7d-8e9f-0a1b2c3d4e5f") };
                string? Sid(int i) => i == 0 ? null : $"S-1-5-21-1-2-3-{1000 + i}";
                string? Login(int i) => i == 0 ? null : $"user{i}@corp.example.com";
                var list = new List<Identity>();
                for (var n = 0; n < specs.Count; n++)
                {
                    var (provider, sid, anchor, login, upper) = specs[n];
                    var loginText = Login(login) is { } l && upper ? l.ToUpperInvariant() : Login(login);
                    list.Add(provider switch
                    {
                        // AD ids are their objectGUIDs: unique per account, so the anchor of an AD account is unique too.
                        0 => new Identity(Provider.Ad, (anchor > 0 && anchor <= 3 && !list.Any(a => a.Provider == Provider.Ad && a.Id == guids[anchor - 1].ToString("D")) ? guids[anchor - 1] : Guid.NewGuid()).ToString("D"), $"ad{n}")
                            { Sid = Sid(sid), Upn = loginText },
                        1 => new Identity(Provider.Entra, $"e{n}", $"entra{n}")
                            { OnPremisesSid = Sid(sid), OnPremisesImmutableId = anchor == 0 ? null : ImmutableIds.FromGuid(guids[anchor - 1]), Upn = loginText },
                        _ => new Identity(Provider.Okta, $"o{n}", loginText ?? $"okta{n}@other.example.com"),
                    });
                }

                return list;
            });

    [Fact]
    public void Property_DirectLinksAreSymmetricExactAndNeverAGuess()
    {
        Population.Sample(accounts =>
        {
            var linker = new IdentityLinker(accounts, ByLogin);
            foreach (var a in accounts)
            {
                foreach (var provider in Providers.All.Where(p => p != a.Provider))
                {
                    var (link, problem) = linker.Direct(a, provider);
                    var matching = accounts.Where(b => b.Provider == provider)
                        .Select(b => (Account: b, Compared: IdentityLinker.Compare(a, b, ByLogin)))
                        .Where(x => x.Compared.Equal.Count > 0).ToList();
                    if (link is null)
                    {
                        // No link: nothing matched, or a refusal that says why (two candidates, a conflict, or a candidate matching several).
                        if (matching.Count > 0) problem.Should().NotBeNull();
                        continue;
                    }

                    // Exact: at least one value equal and none differing; unique: the only account of its provider that matches.
                    problem.Should().BeNull();
                    var compared = IdentityLinker.Compare(a, link.Account, ByLogin);
                    compared.Equal.Should().NotBeEmpty();
                    compared.Differ.Should().BeEmpty();
                    matching.Should().ContainSingle().Which.Account.Should().BeSameAs(link.Account);

                    // Symmetric: the linked account links back to exactly this one.
                    linker.Direct(link.Account, a.Provider).Link!.Account.Should().BeSameAs(a);
                }
            }
        });
    }

    [Fact]
    public void Property_APersonHasAtMostOneAccountPerProvider_AndEveryLinkIsAnExactMatch()
    {
        Population.Sample(accounts =>
        {
            var linker = new IdentityLinker(accounts, ByLogin);
            foreach (var subject in accounts)
            {
                var person = linker.Link(subject);
                person.Accounts.GroupBy(x => x.Provider).Should().OnlyContain(g => g.Count() == 1);
                person.Linked.Select(l => l.Account.Provider).Intersect(person.Refusals.Select(r => r.Provider)).Should().BeEmpty();

                // Every linked account is linked directly to some account of the person: no guessed hop.
                foreach (var link in person.Linked)
                {
                    person.Accounts.Where(x => x.Provider != link.Account.Provider)
                        .Should().Contain(x => linker.Direct(x, link.Account.Provider).Link != null && linker.Direct(x, link.Account.Provider).Link!.Account == link.Account);
                }
            }
        });
    }
}
