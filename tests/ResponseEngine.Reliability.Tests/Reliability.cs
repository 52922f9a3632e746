using ResponseEngine.TestKit;
using System.Globalization;

namespace ResponseEngine.Reliability.Tests;

/// <summary>
/// The knobs of the long runs and the figures the suite reports. RESPOND_RELIABILITY_LONG=1 multiplies every generated
/// input count by 20; RESPOND_RELIABILITY_SEEDS=N sets the crash seeds; RESPOND_RELIABILITY_FIGURES=FILE appends one line
/// per test with what it tried (seeds, kills, inputs, faults, anything lost or duplicated), for docs/threat-model.md.
/// </summary>
public static class Reliability
{
    private static readonly Lock Gate = new();

    public static bool Long => Environment.GetEnvironmentVariable("RESPOND_RELIABILITY_LONG") is "1" or "true";

    /// <summary>Crash seeds to run: RESPOND_RELIABILITY_SEEDS, else the default (×10 in a long run).</summary>
    public static int Seeds(int normal) =>
        int.TryParse(Environment.GetEnvironmentVariable("RESPOND_RELIABILITY_SEEDS"), CultureInfo.InvariantCulture, out var n) && n > 0 ? n
            : Long ? normal * 10 : normal;

    /// <summary>Generated inputs per property: the default, or 20 times as many in a long run.</summary>
    public static int Inputs(int normal) => Long ? normal * 20 : normal;

    /// <summary>
    /// A scratch folder on tmpfs when there is one: a SIGKILL loses nothing the kernel holds, so crash tests need not pay
    /// for fsync (power loss is SQLite's synchronous=FULL, not these tests).
    /// </summary>
    public static TempDirectory ScratchDirectory() => new(Directory.Exists("/dev/shm") ? "/dev/shm" : System.IO.Path.GetTempPath());

    public static void Record(string area, string line)
    {
        var text = $"{area}: {line}";
        TestContext.Current.TestOutputHelper?.WriteLine(text);
        if (Environment.GetEnvironmentVariable("RESPOND_RELIABILITY_FIGURES") is { Length: > 0 } file)
        {
            lock (Gate) File.AppendAllText(file, text + Environment.NewLine);
        }
    }
}
