namespace ResponseEngine.Diagnostics;

/// <summary>Collects diagnostics of one phase so that all of them reach the user together.</summary>
public sealed class DiagnosticBag
{
    private readonly List<Diagnostic> _items = [];

    public IReadOnlyList<Diagnostic> Items => _items;

    public bool HasErrors => _items.Exists(d => d.IsError);

    public void Add(Diagnostic diagnostic) => _items.Add(diagnostic);

    public void AddRange(IEnumerable<Diagnostic> diagnostics) => _items.AddRange(diagnostics);

    public void Error(string code, SourceLocation location, string message, string? hint = null) =>
        _items.Add(Diagnostic.Error(code, location, message, hint));

    public void Warning(string code, SourceLocation location, string message, string? hint = null) =>
        _items.Add(Diagnostic.Warning(code, location, message, hint));

    /// <summary>Diagnostics in file, line and column order, the order a reader fixes them in.</summary>
    public IReadOnlyList<Diagnostic> Sorted() =>
        [.. _items.OrderBy(d => d.Location.File, StringComparer.Ordinal).ThenBy(d => d.Location.Line).ThenBy(d => d.Location.Column)];
}
