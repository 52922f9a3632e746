namespace ResponseEngine.Diagnostics;

/// <summary>Where in a user's file a problem is, so editors and terminals can jump to it.</summary>
public readonly record struct SourceLocation(string File, int Line, int Column)
{
    public static SourceLocation FileOnly(string file) => new(file, 0, 0);

    public override string ToString() => Line > 0 ? $"{File}:{Line}:{Column}" : File;
}

public enum DiagnosticSeverity
{
    Error,
    Warning,
}

/// <summary>One problem in user input, reported with every other problem of the same load instead of stopping at the first.</summary>
public sealed record Diagnostic(string Code, DiagnosticSeverity Severity, SourceLocation Location, string Message, string? Hint = null)
{
    public static Diagnostic Error(string code, SourceLocation location, string message, string? hint = null) =>
        new(code, DiagnosticSeverity.Error, location, message, hint);

    public static Diagnostic Warning(string code, SourceLocation location, string message, string? hint = null) =>
        new(code, DiagnosticSeverity.Warning, location, message, hint);

    public bool IsError => Severity == DiagnosticSeverity.Error;

    /// <summary>The compiler-style line: <c>path:line:col: error RE0001: message hint</c>.</summary>
    public override string ToString()
    {
        var kind = Severity == DiagnosticSeverity.Error ? "error" : "warning";
        var text = Hint is null ? Message : $"{Message}; {Hint}";
        return $"{Location}: {kind} {Code}: {text}";
    }
}
