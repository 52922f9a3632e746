using System.Collections.Concurrent;
using System.Diagnostics;
using ResponseEngine.TestKit;

namespace ResponseEngine.Service.Tests;

/// <summary>`respond serve` as a real process in a workspace: started, waited for until it listens, stopped with SIGTERM or killed with SIGKILL.</summary>
public sealed class ServeProcess : IAsyncDisposable
{
    private readonly Process _process;
    private readonly ConcurrentQueue<string> _output = new();
    private readonly ConcurrentQueue<string> _error = new();
    private readonly TaskCompletionSource<Uri> _listening = new(TaskCreationOptions.RunContinuationsAsynchronously);

    private ServeProcess(Process process)
    {
        _process = process;
        process.OutputDataReceived += (_, e) =>
        {
            if (e.Data is null) return;
            _output.Enqueue(e.Data);
            const string Prefix = "respond serve: listening on ";
            if (e.Data.StartsWith(Prefix, StringComparison.Ordinal)) _listening.TrySetResult(new Uri(e.Data[Prefix.Length..]));
        };
        process.ErrorDataReceived += (_, e) =>
        {
            if (e.Data is not null) _error.Enqueue(e.Data);
        };
        process.Exited += (_, _) => _listening.TrySetException(new InvalidOperationException($"respond serve exited with {process.ExitCode} before it listened:\n{Log}"));
    }

    public Uri Url { get; private set; } = null!;

    public int Id => _process.Id;

    public string Log => string.Join('\n', _output) + "\n--- stderr ---\n" + string.Join('\n', _error.TakeLast(200));

    public string Errors => string.Join('\n', _error);

    public bool HasExited => _process.HasExited;

    public int ExitCode => _process.ExitCode;

    public static async Task<ServeProcess> StartAsync(string workingDirectory, IDictionary<string, string>? environment = null, params string[] extra)
    {
        var info = new ProcessStartInfo("dotnet")
        {
            WorkingDirectory = workingDirectory,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        info.ArgumentList.Add(CliProcess.RespondDll);
        foreach (var arg in new[] { "serve", "--listen", "http://127.0.0.1:0" }.Concat(extra)) info.ArgumentList.Add(arg);
        info.Environment["NO_COLOR"] = "1";
        info.Environment["RESPOND_WEBHOOK_SECRET"] = ServeWorkspace.Secret;
        info.Environment["RESPOND_WEBHOOK_TOKEN"] = ServeWorkspace.Token;
        foreach (var (key, value) in environment ?? new Dictionary<string, string>()) info.Environment[key] = value;
        var process = new Process { StartInfo = info, EnableRaisingEvents = true };
        var serve = new ServeProcess(process);
        process.Start();
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        try
        {
            serve.Url = await serve._listening.Task.WaitAsync(timeout.Token);
        }
        catch (OperationCanceledException)
        {
            process.Kill(entireProcessTree: true);
            throw new InvalidOperationException("respond serve did not start listening within 60 s:\n" + serve.Log);
        }

        return serve;
    }

    /// <summary>SIGKILL: no shutdown, no lease given back, nothing flushed.</summary>
    public async Task KillAsync()
    {
        if (_process.HasExited) return;
        _process.Kill(entireProcessTree: true);
        await _process.WaitForExitAsync(CancellationToken.None);
    }

    /// <summary>SIGTERM, as a service manager stops a service; waits for the process to exit.</summary>
    public async Task TerminateAsync(TimeSpan deadline)
    {
        if (_process.HasExited) return;
        using (var kill = Process.Start("kill", ["-TERM", _process.Id.ToString(System.Globalization.CultureInfo.InvariantCulture)])!)
        {
            await kill.WaitForExitAsync();
        }

        using var timeout = new CancellationTokenSource(deadline);
        await _process.WaitForExitAsync(timeout.Token);
    }

    public async ValueTask DisposeAsync()
    {
        await KillAsync();
        _process.Dispose();
    }
}
