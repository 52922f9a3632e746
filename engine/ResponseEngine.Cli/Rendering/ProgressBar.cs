using System.Globalization;

namespace ResponseEngine.Cli.Rendering;

/// <summary>
/// A one-line progress bar on standard error for long plans (`[#####-----]  45% 45,000/100,000 findings`), redrawn in
/// place with a carriage return only when the whole percentage moves, and erased when done so that nothing of it is
/// left in a terminal's scrollback. Shown only when standard error is a terminal; never in files, pipes or CI logs.
/// </summary>
internal sealed class ProgressBar : IProgress<int>, IDisposable
{
    /// <summary>Below this many findings a plan takes well under a second: no bar.</summary>
    public const int Threshold = 10_000;

    private const int Width = 30;

    private readonly TextWriter _writer;
    private readonly int _total;
    private readonly string _label;
    private int _percent = -1;
    private int _length;
    private bool _unknown;

    public ProgressBar(TextWriter writer, int total, string label)
    {
        _writer = writer;
        _total = Math.Max(total, 1);
        _label = label;
    }

    /// <summary>A bar for <paramref name="total"/> findings when the run is long and a person is watching, else null.</summary>
    public static ProgressBar? For(CliContext context, int total, string label) =>
        total >= Threshold && context.Interactive ? new ProgressBar(context.Error, total, label) : null;

    /// <summary>
    /// A bar for a number of findings known (as <see cref="For(CliContext, int, string)"/>) or not (null: findings read
    /// as a stream), which then counts them from <see cref="Threshold"/> on, redrawn every <see cref="Threshold"/>.
    /// </summary>
    public static ProgressBar? For(CliContext context, int? total, string label) =>
        total is { } known ? For(context, known, label) : context.Interactive ? new ProgressBar(context.Error, 0, label) { _unknown = true } : null;

    public void Report(int value)
    {
        if (_unknown)
        {
            // No total to measure against: the count so far, from the threshold on.
            if (value < Threshold || value / Threshold == _percent) return;
            _percent = value / Threshold;
            Draw(string.Create(CultureInfo.InvariantCulture, $"{value:N0} {_label} decided"));
            return;
        }

        var done = Math.Clamp(value, 0, _total);
        var percent = (int)(done * 100L / _total);
        if (percent == _percent) return;
        _percent = percent;
        var filled = percent * Width / 100;
        Draw(string.Create(CultureInfo.InvariantCulture,
            $"[{new string('#', filled)}{new string('-', Width - filled)}] {percent,3}% {done:N0}/{_total:N0} {_label}"));
    }

    private void Draw(string line)
    {
        _writer.Write('\r' + line.PadRight(_length));
        _length = line.Length;
        _writer.Flush();
    }

    /// <summary>Erases the bar, leaving the cursor at the start of an empty line.</summary>
    public void Dispose()
    {
        if (_length == 0) return;
        _writer.Write('\r' + new string(' ', _length) + '\r');
        _writer.Flush();
        _length = 0;
    }
}
