using System.Collections.Immutable;
using System.Globalization;

namespace ResponseEngine.Diagnostics;

/// <summary>Diagnostics as shown to a person: the first problems of each file, then one line counting the rest.</summary>
public sealed record LimitedDiagnostics(ImmutableArray<Diagnostic> Shown, int HiddenErrors, int HiddenWarnings)
{
    /// <summary>Errors in the input, shown or not (the summary line itself is not counted).</summary>
    public int ErrorCount => Shown.Count(d => d.IsError && d.Code != DiagnosticCodes.TooManyProblems) + HiddenErrors;

    /// <summary>Warnings in the input, shown or not.</summary>
    public int WarningCount => Shown.Count(d => !d.IsError && d.Code != DiagnosticCodes.TooManyProblems) + HiddenWarnings;
}

/// <summary>
/// Caps the diagnostics of one file: a 1 MiB file of unknown keys is 100,000 problems, and a person (or a CI log) needs
/// the first ones and a count, not all of them. Keeps the first <see cref="PerFile"/> of each file in position order and
/// replaces the rest with one summary diagnostic (RE0016) at the first hidden one; the summary is an error when any hidden
/// diagnostic is, so whether the input is usable (and the exit code) never changes.
/// </summary>
public static class DiagnosticLimit
{
    public const int PerFile = 100;

    public static LimitedDiagnostics Apply(IEnumerable<Diagnostic> sorted, int perFile = PerFile)
    {
        ArgumentNullException.ThrowIfNull(sorted);
        ArgumentOutOfRangeException.ThrowIfLessThan(perFile, 1);
        var shown = ImmutableArray.CreateBuilder<Diagnostic>();
        int hiddenErrors = 0, hiddenWarnings = 0;
        foreach (var file in sorted.GroupBy(d => d.Location.File, StringComparer.Ordinal))
        {
            var kept = 0;
            Diagnostic? firstHidden = null;
            int errors = 0, warnings = 0;
            foreach (var diagnostic in file)
            {
                if (kept < perFile)
                {
                    shown.Add(diagnostic);
                    kept++;
                    continue;
                }

                firstHidden ??= diagnostic;
                if (diagnostic.IsError) errors++;
                else warnings++;
            }

            if (firstHidden is null) continue;
            hiddenErrors += errors;
            hiddenWarnings += warnings;
            shown.Add(Summary(firstHidden.Location, errors, warnings, perFile));
        }

        return new LimitedDiagnostics(shown.ToImmutable(), hiddenErrors, hiddenWarnings);
    }

    private static Diagnostic Summary(SourceLocation at, int errors, int warnings, int perFile)
    {
        var total = errors + warnings;
        var message = string.Create(CultureInfo.InvariantCulture,
            $"{total:N0} more problem{(total == 1 ? "" : "s")} in this file not shown ({errors:N0} error{(errors == 1 ? "" : "s")}, {warnings:N0} warning{(warnings == 1 ? "" : "s")}), from here on");
        var hint = $"only the first {perFile} problems of a file are listed; fix those and run again";
        return errors > 0
            ? Diagnostic.Error(DiagnosticCodes.TooManyProblems, at, message, hint)
            : Diagnostic.Warning(DiagnosticCodes.TooManyProblems, at, message, hint);
    }
}
