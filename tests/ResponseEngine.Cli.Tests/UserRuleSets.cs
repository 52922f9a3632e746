using ResponseEngine.TestKit;

namespace ResponseEngine.Cli.Tests;

/// <summary>
/// The shipped rules, or a scratch copy of them with one rule a user added (as the README invites): tests that read the
/// shipped rules run on both, so they derive their expectations instead of knowing the shipped rules' counts.
/// </summary>
internal static class UserRuleSets
{
    /// <summary>The rules folder to use: the shipped one, or a copy under <paramref name="scratch"/> with an added enforce rule.</summary>
    public static string Rules(bool withAddedRule, TempDirectory scratch)
    {
        if (!withAddedRule) return RepoPaths.Rules;
        var target = Path.Combine(scratch.Path, "user-rules");
        foreach (var file in Directory.EnumerateFiles(RepoPaths.Rules, "*", SearchOption.AllDirectories))
        {
            var destination = Path.Combine(target, Path.GetRelativePath(RepoPaths.Rules, file));
            Directory.CreateDirectory(Path.GetDirectoryName(destination)!);
            File.Copy(file, destination);
        }

        scratch.Write("user-rules/local/local-weak-password-disable.yaml", """
            id: local-weak-password-disable
            title: A rule a user adds on top of the shipped ones
            owner: local-team
            mode: enforce
            match:
              types: [weak_password]
              providers: [ad]
              min_severity: low
            when: not identity.privileged
            actions:
              - action: disable_user
            tests:
              - name: an ordinary account with a weak password is disabled
                finding: { type: weak_password, severity: high, subject: { provider: ad, name: bob } }
                identity: { privileged: false }
                expect: [disable_user]
              - name: a privileged account is left to the privileged rule
                finding: { type: weak_password, severity: high, subject: { provider: ad, name: adm-bob } }
                identity: { privileged: true }
                expect: []
            """);
        return target;
    }
}
