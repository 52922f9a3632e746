using System.Globalization;
using System.Text;
using System.Text.Json.Nodes;
using ResponseEngine.Configuration;
using ResponseEngine.Diagnostics;
using ResponseEngine.Notifications;

namespace ResponseEngine.Service.Notifications;

/// <summary>
/// A notification in each receiver's format. Data (names, reasons, errors from findings and directories) is escaped for
/// where it lands: control and direction characters everywhere (as escapes), Markdown in a Teams card, Slack's &amp;, &lt;, &gt; in
/// Slack text (so data cannot mention @channel, forge a link or bold a line), and JSON encoding in the signed webhook.
/// </summary>
public static class NotificationPayloads
{
    /// <summary>Longest value shown in a card or a message; a finding can carry more than a channel should show.</summary>
    public const int MaxValue = 1000;

    /// <summary>
    /// The message envelope Teams incoming webhooks and Workflows' "post to a channel when a webhook request is received"
    /// take: a message with one Adaptive Card attachment (learn.microsoft.com, "Send Adaptive Cards using an Incoming
    /// Webhook"; MicrosoftDocs/msteams-docs, msteams-platform/webhooks-and-connectors/how-to/connectors-using.md).
    /// </summary>
    public static JsonObject Teams(Notification n) => new()
    {
        ["type"] = "message",
        ["attachments"] = new JsonArray(new JsonObject
        {
            ["contentType"] = "application/vnd.microsoft.card.adaptive",
            ["contentUrl"] = null,
            ["content"] = new JsonObject
            {
                ["$schema"] = "http://adaptivecards.io/schemas/adaptive-card.json",
                ["type"] = "AdaptiveCard",
                ["version"] = "1.4",
                ["body"] = new JsonArray(
                    new JsonObject { ["type"] = "TextBlock", ["text"] = Markdown(n.Title), ["weight"] = "Bolder", ["size"] = "Medium", ["wrap"] = true },
                    new JsonObject
                    {
                        ["type"] = "FactSet",
                        ["facts"] = new JsonArray([.. Facts(n).Select(f => (JsonNode)new JsonObject { ["title"] = Markdown(f.Key), ["value"] = Markdown(f.Value) })]),
                    }),
            },
        }),
    };

    /// <summary>A Slack incoming-webhook message: <c>text</c> for notifications and clients without blocks, and blocks whose data fields are plain text.</summary>
    public static JsonObject Slack(Notification n) => new()
    {
        ["text"] = SlackText(n.Title),
        ["blocks"] = new JsonArray(
            new JsonObject { ["type"] = "header", ["text"] = PlainText(Clip(n.Title, 150)) },
            new JsonObject
            {
                ["type"] = "section",
                ["fields"] = new JsonArray([.. Facts(n).Take(10).Select(f => (JsonNode)PlainText(Clip($"{f.Key}: {f.Value}", 2000)))]),
            },
            new JsonObject
            {
                ["type"] = "context",
                ["elements"] = new JsonArray(PlainText($"respond · {n.Event.Name()} · {n.At.UtcDateTime.ToString("yyyy-MM-ddTHH:mm:ssZ", CultureInfo.InvariantCulture)}")),
            }),
    };

    /// <summary>The generic signed webhook's body: the notification as data (docs/notifications.md, "Signed webhook").</summary>
    public static JsonObject Webhook(Notification n, string deliveryId)
    {
        var facts = new JsonObject();
        foreach (var (key, value) in n.Facts) facts[key] = Plain(value);
        return new JsonObject
        {
            ["type"] = "respond.notification",
            ["version"] = 1,
            ["id"] = deliveryId,
            ["event"] = n.Event.Name(),
            ["at"] = n.At.UtcDateTime.ToString("O", CultureInfo.InvariantCulture),
            ["title"] = Plain(n.Title),
            ["facts"] = facts,
            ["audit_sequence"] = n.AuditSequence,
            ["run_id"] = n.RunId,
            ["host"] = n.Host,
        };
    }

    private static IEnumerable<KeyValuePair<string, string>> Facts(Notification n) =>
        n.Host is null ? n.Facts : n.Facts.Append(new("host", n.Host));

    private static JsonObject PlainText(string text) => new() { ["type"] = "plain_text", ["text"] = Plain(text), ["emoji"] = false };

    /// <summary>The value clipped, with control, line-separator and direction characters shown as escapes (<see cref="Printable"/>).</summary>
    public static string Plain(string? text) => string.IsNullOrEmpty(text) ? text ?? "" : Printable.Escape(Clip(text, MaxValue));

    /// <summary>Plain text with every Markdown punctuation character backslash-escaped (CommonMark), so data renders as written.</summary>
    public static string Markdown(string? text)
    {
        var plain = Plain(text);
        var builder = new StringBuilder(plain.Length + 16);
        foreach (var c in plain)
        {
            if (c is '\\' or '`' or '*' or '_' or '{' or '}' or '[' or ']' or '(' or ')' or '#' or '+' or '-' or '.' or '!' or '|' or '~' or '<' or '>' or '&') builder.Append('\\');
            builder.Append(c);
        }

        return builder.ToString();
    }

    /// <summary>Slack's escaping for text it parses: &amp;, &lt; and &gt; (api.slack.com, "Formatting text for app surfaces").</summary>
    public static string SlackText(string? text) =>
        Plain(text).Replace("&", "&amp;", StringComparison.Ordinal).Replace("<", "&lt;", StringComparison.Ordinal).Replace(">", "&gt;", StringComparison.Ordinal);

    private static string Clip(string text, int length) => text.Length <= length ? text : text[..(length - 1)] + "…";
}
