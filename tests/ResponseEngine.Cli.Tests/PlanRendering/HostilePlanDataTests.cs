using System.Collections.Immutable;
using CsCheck;
using Microsoft.Extensions.Time.Testing;
using ResponseEngine.Actions;
using ResponseEngine.Cli.Commands;
using ResponseEngine.Cli.Rendering;
using ResponseEngine.Findings;
using ResponseEngine.Identities;
using ResponseEngine.Planning;
using ResponseEngine.Rules;
using ResponseEngine.TestKit;

namespace ResponseEngine.Cli.Tests.PlanRendering;

/// <summary>
/// Hostile data in every field a plan shows (identity and subject names, finding ids and types, rule titles, guard
/// reasons, notes, link evidence and refusals): the streamed text, Markdown and HTML plans stay what their structure
/// says (no control character, no line, table cell, tag, link or mention from data) and equal the reference rendering
/// of the whole plan, for generated plans (CsCheck).
/// </summary>
public sealed class HostilePlanDataTests
{
    private static readonly Gen<string> Fragment = Gen.OneOf(
        Gen.Const("<script>alert(1)</script>"), Gen.Const("<img src=x onerror=alert(1)>"), Gen.Const("\"><b>x</b>"), Gen.Const("</details>"),
        Gen.Const("<br>"), Gen.Const("|"), Gen.Const("\n"), Gen.Const("\r"), Gen.Const("\r\n"), Gen.Const("\u001b[31m"), Gen.Const("\u0085"),
        Gen.Const("\u2028"), Gen.Const("\u202e"), Gen.Const("\t"), Gen.Const("`"), Gen.Const("[x](https://evil.example)"), Gen.Const("@org/team"),
        Gen.Const("![i](x)"), Gen.Const("&amp;"), Gen.Const("*_#~\\"), Gen.Const("alice"), Gen.String[0, 4]);

    private static readonly Gen<string> Hostile = Fragment.Array[1, 4].Select(parts => string.Concat(parts));

    private static readonly Lazy<Rule> Template = new(() =>
    {
        using var temp = new TempDirectory();
        temp.Write("rules/r.yaml", RuleFiles.Rule("hostile-rule"));
        return CommonOptions.LoadRules(Path.Combine(temp.Path, "rules"), new FakeTimeProvider(Build.Now)).RuleSet!.Rules[0];
    });

    internal static readonly Gen<Decision> OneDecision =
        Gen.Select(Gen.Select(Hostile, Hostile, Hostile, Hostile), Gen.Select(Hostile, Hostile, Hostile, Hostile), Gen.Select(Gen.Int[0, 3], Gen.Bool, Gen.Bool, Gen.Int[0, 2]))
            .Select((names, texts, shape) =>
            {
                var (identityName, subjectName, findingId, findingType) = names;
                var (title, reason, evidence, refusal) = texts;
                var (verdict, resolved, linked, ruleIndex) = shape;
                var rule = Template.Value with { Id = $"hostile-rule-{ruleIndex}", Title = title };
                var finding = Build.Finding(type: findingType, name: subjectName, id: findingId);
                var identity = resolved ? Build.Identity(identityName) : null;
                var decision = new Decision(finding, rule, identity, rule.Actions[0].Action, ActionParameters.Empty)
                {
                    Verdict = (Verdict)verdict,
                    Guard = verdict == 0 ? null : "identity",
                    Reason = verdict == 0 ? null : reason,
                    Note = reason,
                    CountedOnSnapshot = verdict == 2 ? evidence : null,
                };
                if (!linked || identity is null) return decision;
                var link = new AccountLink(Build.Identity(subjectName, Provider.Entra), evidence);
                return decision with { Identity = link.Account, Person = new Person(identity, [link], [new LinkRefusal(Provider.Okta, refusal)]), Link = link };
            });

    private static readonly Gen<(Plan Plan, long Budget)> Plans =
        Gen.Select(OneDecision.Array[1, 8], Gen.Int[200, 100_000])
            .Select((decisions, budget) => (new Plan(Build.Now, [.. decisions], decisions.Length, decisions.Length, 3, null), (long)budget));

    [Fact]
    public void Text_HostileData_NoControlCharacterOrLineOfItsOwn_AndTheReferenceRendering()
    {
        Plans.Sample(sample =>
        {
            var (plan, budget) = sample;
            var text = Streamed("text", plan, budget);

            NoControlCharacters(text);
            var groups = plan.Decisions.Select(Group).Distinct().Count();
            var persons = plan.Decisions.Where(d => d.Person is not null).Select(Group).Distinct().Count();
            text.Split('\n').Length.Should().Be(3 + groups + persons + plan.Decisions.Length + 3, "header, summary, blank, identities, people, decisions, blank, totals and the final newline");
            text.Should().Be(StreamedPlanFormats.Reference("text", plan));
        }, iter: 200);
    }

    [Fact]
    public void Markdown_HostileData_NoCellTagLinkOrMentionOfItsOwn_AndTheReferenceRendering()
    {
        Plans.Sample(sample =>
        {
            var (plan, budget) = sample;
            var markdown = Streamed("markdown", plan, budget);

            NoControlCharacters(markdown);
            var rows = markdown.Split('\n').Where(l => l.StartsWith('|')).Select(UnescapedPipes).ToList();
            rows.Should().OnlyContain(pipes => pipes == 3 || pipes == 6, "each table row keeps its cells");
            var sections = plan.Decisions.Select(d => d.Rule.Id).Distinct().Count();
            rows.Count(pipes => pipes == 6).Should().Be(plan.Decisions.Length + 2 * sections, "a row per decision under each rule's header");
            var tagsRemoved = new[] { "<details>", "</details>", "<summary>", "</summary>", "<code>", "</code>", "<br>" }
                .Aggregate(markdown, (text, tag) => text.Replace(tag, "", StringComparison.Ordinal));
            tagsRemoved.Should().NotContain("<", "no tag comes from data");
            Unescaped(markdown, '@').Should().Be(0, "no mention from data");
            Unescaped(markdown, '[').Should().Be(0, "no link or image from data");
            markdown.Should().Be(StreamedPlanFormats.Reference("markdown", plan));
        }, iter: 200);
    }

    [Fact]
    public void Html_HostileData_NoTagOrScriptOfItsOwn_AndTheReferenceRendering()
    {
        Plans.Sample(sample =>
        {
            var (plan, budget) = sample;
            var html = Streamed("html", plan, budget);

            NoControlCharacters(html);
            Count(html, "<script").Should().Be(1, "the page's own filter script only");
            Count(html, "<img").Should().Be(0);
            Count(html, "<b>").Should().Be(5, "the five summary cards");
            Count(html, "<tr class=\"decision\"").Should().Be(plan.Decisions.Length);
            var groups = plan.Decisions.Select(Group).Distinct().Count();
            Count(html, "<details").Should().Be(groups);
            Count(html, "</details>").Should().Be(groups);
            Count(html, "<p class=\"person\">").Should().Be(plan.Decisions.Where(d => d.Person is not null).Select(Group).Distinct().Count());
            html.Should().NotContain("@", "no address or mention as written");
            html.Should().Be(StreamedPlanFormats.Reference("html", plan));
        }, iter: 200);
    }

    private static string Streamed(string format, Plan plan, long budget)
    {
        using var renderer = PlanRenderers.For(format, color: false, spillBudget: budget);
        renderer.Begin(plan);
        renderer.Write(plan.Decisions);
        var writer = new StringWriter();
        renderer.WriteTo(plan, writer);
        return writer.ToString();
    }

    private static (Provider, string) Group(Decision d) => (d.Identity?.Provider ?? d.Finding.Subject.Provider, d.TargetDisplay);

    private static void NoControlCharacters(string output) =>
        output.Where(c => c != '\n' && (c < ' ' || c is >= '\u007f' and <= '\u009f' || c is '\u2028' or '\u2029' or (>= '\u202a' and <= '\u202e')))
            .Should().BeEmpty("control characters from data are escaped");

    private static int Count(string text, string part) => text.Split(part).Length - 1;

    private static int UnescapedPipes(string line) => Unescaped(line, '|');

    /// <summary>Occurrences of <paramref name="c"/> not escaped by a backslash (itself unescaped).</summary>
    private static int Unescaped(string text, char c)
    {
        var count = 0;
        for (var i = 0; i < text.Length; i++)
        {
            if (text[i] == '\\')
            {
                i++;
                continue;
            }

            if (text[i] == c) count++;
        }

        return count;
    }
}
