using ResponseEngine.Diagnostics;
using ResponseEngine.TestKit;

namespace ResponseEngine.Cli.Tests;

/// <summary>Ten rule files, each broken in a different way, and the diagnostics `respond validate` must print.</summary>
internal static class BrokenRules
{
    private const string Base = """
        id: {0}
        title: broken on purpose
        owner: tests
        mode: enforce
        match:
          types: [weak_password]
          providers: [ad]
        when: identity.privileged
        actions:
          - action: disable_user
        """;

    private static readonly (string File, string Yaml)[] Files =
    [
        ("bad-yaml.yaml", "id: bad-yaml\ntitle: [unclosed\nowner: x\n"),
        ("unknown-key.yaml", Rule("unknown-key").Replace("owner: tests", "ownr: tests")),
        ("wrong-type.yaml", Rule("wrong-type").Replace("title: broken on purpose", "title: { text: broken }")),
        ("unknown-action.yaml", Rule("unknown-action").Replace("action: disable_user", "action: disable_account")),
        ("bad-parameter.yaml", Rule("bad-parameter").Replace("action: disable_user", "action: revoke_group\n    with: { groups: Domain Admins }")),
        ("bad-expression.yaml", Rule("bad-expression").Replace("when: identity.privileged", "when: identity.privileged and (")),
        ("unknown-variable.yaml", Rule("unknown-variable").Replace("when: identity.privileged", "when: identity.is_admin")),
        ("sub/duplicate-a.yaml", Rule("duplicate-id")),
        ("sub/duplicate-b.yaml", Rule("duplicate-id")),
        ("bad-date.yaml", Rule("bad-date").Replace("mode: enforce", "mode: enforce\nexpires: 30/06/2027")),
        ("unknown-provider.yaml", Rule("unknown-provider").Replace("providers: [ad]", "providers: [active_directory]")),
    ];

    /// <summary>(file, line, column, code) of each error, in the order a reader meets them.</summary>
    public static readonly (string File, int Line, int Column, string Code)[] Expected =
    [
        ("bad-date.yaml", 5, 10, DiagnosticCodes.InvalidDate),
        ("bad-expression.yaml", 8, 31, DiagnosticCodes.ExpressionSyntax),
        ("bad-parameter.yaml", 11, 21, DiagnosticCodes.BadParameter),
        ("bad-yaml.yaml", 2, 8, DiagnosticCodes.YamlSyntax),
        ("sub/duplicate-b.yaml", 1, 1, DiagnosticCodes.DuplicateId),
        ("unknown-action.yaml", 10, 13, DiagnosticCodes.UnknownAction),
        ("unknown-key.yaml", 3, 1, DiagnosticCodes.UnknownKey),
        ("unknown-key.yaml", 1, 1, DiagnosticCodes.MissingField),
        ("unknown-provider.yaml", 7, 15, DiagnosticCodes.UnknownProvider),
        ("unknown-variable.yaml", 8, 7, DiagnosticCodes.UnknownVariable),
        ("wrong-type.yaml", 2, 8, DiagnosticCodes.WrongType),
    ];

    public static TempDirectory Write()
    {
        var temp = new TempDirectory();
        foreach (var (file, yaml) in Files) temp.Write(file, yaml);
        return temp;
    }

    private static string Rule(string id) => Base.Replace("{0}", id, StringComparison.Ordinal);
}
