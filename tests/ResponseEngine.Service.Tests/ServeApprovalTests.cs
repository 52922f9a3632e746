using System.Net;
using FluentAssertions;
using ResponseEngine.Audit;
using ResponseEngine.TestKit;
using Xunit;

namespace ResponseEngine.Service.Tests;

/// <summary>
/// An approval takes effect in the running service: `respond serve` holds a decision whose rule requires approval,
/// `respond approve` (a separate process, as an analyst runs it) records the approval and puts the finding back into the
/// inbox, and the service executes it under every guard, without any `respond run`.
/// </summary>
public sealed class ServeApprovalTests
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    private static readonly TimeSpan Deadline = TimeSpan.FromMinutes(3);

    private static DateTimeOffset Now => TimeProvider.System.GetUtcNow();

    /// <summary>A rule whose decision waits for `respond approve`: deactivate an Okta account on insider_exfiltration.</summary>
    internal const string ApprovalRule = ServeWorkspace.ApprovalRule;

    [Fact]
    public async Task Approve_WhileServeRuns_TheHeldDecisionIsExecutedAndAuditedWithoutARun()
    {
        using var workspace = new ServeWorkspace();
        workspace.Write("rules/okta/okta-approve-deactivate.yaml", ApprovalRule);
        await using var serve = await ServeProcess.StartAsync(workspace.Path);
        using var http = new HttpClient();
        var body = "[" + ServeWorkspace.Finding("approval-0", ServeWorkspace.OktaUsers[3], type: "insider_exfiltration") + "]";
        using (var response = await http.SendAsync(ServeWorkspace.Signed(new Uri(serve.Url, "/v1/findings"), body, Now), Ct))
        {
            response.StatusCode.Should().Be(HttpStatusCode.Accepted, serve.Log);
        }

        AuditRecord? held = null;
        await ServeWorkspace.Eventually(async () =>
        {
            held = (await workspace.TrailAsync(Ct)).FirstOrDefault(r => r.Entry.Status == AuditStatus.Held && r.Entry.Guard == "approval");
            return held is not null;
        }, Deadline, "the decision is held for approval", () => serve.Log);

        var waiting = await CliProcess.RunAsync(workspace.Path, "approvals", "list");
        waiting.Output.Should().Contain("okta-approve-deactivate").And.Contain(ServeWorkspace.OktaUsers[3]);

        var approve = await CliProcess.RunAsync(workspace.Path, "approve", held!.Sequence.ToString(System.Globalization.CultureInfo.InvariantCulture), "--reason", "confirmed by the data owner");
        approve.ExitCode.Should().Be(0, approve.Error);
        approve.Output.Should().Contain("back in the inbox");

        await ServeWorkspace.Eventually(async () => (await workspace.TrailAsync(Ct)).Any(r => r.Entry.Status == AuditStatus.Succeeded && r.Entry.Action == "deactivate_user"),
            Deadline, "the service executes the approved decision", () => serve.Log);
        var trail = await workspace.TrailAsync(Ct);
        var approval = trail.Single(r => r.Entry.Status == AuditStatus.Approved);
        approval.Entry.Reason.Should().Be("confirmed by the data owner");
        approval.Entry.Actor.Should().NotBeNullOrWhiteSpace();
        var intent = trail.Single(r => r.Entry.Status == AuditStatus.Intended && r.Entry.Action == "deactivate_user");
        intent.Sequence.Should().BeGreaterThan(approval.Sequence, "the intent is written after the approval, by the service");
        trail.Single(r => r.Entry.Status == AuditStatus.Succeeded).Entry.IntentSequence.Should().Be(intent.Sequence);
    }
}
