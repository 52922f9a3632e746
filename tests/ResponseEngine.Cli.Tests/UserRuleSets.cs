using ResponseEngine.TestKit;

namespace ResponseEngine.Cli.Tests;

/// <summary>
/// The shipped rules, or a scratch copy of them with one rule a user added (as the README invites): tests that read the
/// shipped rules run on both, so they derive their expectations instead of knowing the shipped rules' counts.
/// </summary>
internal static class UserRuleSets
{
    /// <summary>The rules folder to use: the shipped one, or a copy under <paramref name="scratch"/> with the rules a user added.</summary>
    public static string Rules(bool withAddedRule, TempDirectory scratch)
    {
        if (!withAddedRule) return RepoPaths.Rules;
        var target = Path.Combine(scratch.Path, "user-rules");
        CopyWithAddedRules(target);
        return target;
    }

    /// <summary>
    /// Copies the shipped rules to <paramref name="target"/> and adds two rules as a user would: an enforce rule the
    /// samples trigger and an observe rule no sample matches (both with the schema line and a positive and negative test).
    /// </summary>
    public static void CopyWithAddedRules(string target)
    {
        foreach (var file in Directory.EnumerateFiles(RepoPaths.Rules, "*", SearchOption.AllDirectories))
        {
            var destination = Path.Combine(target, Path.GetRelativePath(RepoPaths.Rules, file));
            Directory.CreateDirectory(Path.GetDirectoryName(destination)!);
            File.Copy(file, destination);
        }

        Directory.CreateDirectory(Path.Combine(target, "local"));
        File.WriteAllText(Path.Combine(target, "local", "local-weak-password-disable.yaml"), """
            # yaml-language-server: $schema=../../schemas/rule.schema.json
            id: local-weak-password-disable
            title: A rule a user adds on top of the shipped ones, which the samples trigger
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
        File.WriteAllText(Path.Combine(target, "local", "local-never-matches.yaml"), """
            # yaml-language-server: $schema=../../schemas/rule.schema.json
            id: local-never-matches
            title: A rule a user adds that no sample finding matches
            owner: local-team
            mode: observe
            match:
              types: [local_custom_detection]
              providers: [entra]
            actions:
              - action: revoke_sessions
            tests:
              - name: the custom detection revokes sessions
                finding: { type: local_custom_detection, severity: high, subject: { provider: entra, name: carol@corp.example.com } }
                expect: [revoke_sessions]
              - name: another detection is left alone
                finding: { type: atypical_travel, severity: high, subject: { provider: entra, name: carol@corp.example.com } }
                expect: []
            """);
    }
}
