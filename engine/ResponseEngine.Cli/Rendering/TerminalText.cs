using ResponseEngine.Diagnostics;

namespace ResponseEngine.Cli.Rendering;

/// <summary>The CLI renderers' name for <see cref="Printable.Escape"/>, the one escape of untrusted text (the service's log formatter uses it too).</summary>
public static class TerminalText
{
    public static string Escape(string? text) => Printable.Escape(text);
}
