using System;
using System.Collections.Generic;
using System.Diagnostics;
using System.Globalization;
using System.IO;
using System.Threading.Tasks;

namespace XetPs.Bench.SideBySide;

/// <summary>What one client process cost: wall time, peak resident set and CPU, as the kernel accounts them.</summary>
/// <remarks>Peak RSS and CPU include the descendants the process waited for (a bash wrapper and its curl, jq or
/// dotnet children), because GNU time reads them from wait4's rusage, which folds reaped children in.</remarks>
public sealed record ProcessCost(double WallSeconds, long PeakRssBytes, double UserSeconds, double SystemSeconds)
{
    public double CpuSeconds => UserSeconds + SystemSeconds;
}

/// <summary>The outcome of one measured run: its cost, its exit code and what it printed.</summary>
public sealed record MeasuredRun(ProcessCost Cost, int ExitCode, string StandardOutput, string StandardError);

/// <summary>
/// Runs one client as its own process under <c>/usr/bin/time -f '%e %M %U %S'</c>, so each client is measured the same
/// way whatever it is written in. Invariant: nothing else runs in the measured process tree; the orchestrator's own
/// work (hashing the output, cleaning up) happens outside it.
/// </summary>
public static class MeasuredProcess
{
    public const string TimeTool = "/usr/bin/time";

    /// <param name="monitor">Runs beside the process with GNU time's pid (the client is its child), until the client
    /// exits and the token is cancelled: the soak samples the client's memory and writes with it.</param>
    public static async Task<MeasuredRun> RunAsync(string fileName, IReadOnlyList<string> arguments, string workDirectory,
                                                   IReadOnlyDictionary<string, string>? environment = null,
                                                   Func<int, System.Threading.CancellationToken, Task>? monitor = null)
    {
        if (!File.Exists(TimeTool))
            throw new FileNotFoundException($"{TimeTool} (GNU time) is needed to measure peak RSS and CPU: apt-get install time", TimeTool);
        var timeFile = Path.Combine(workDirectory, $"time-{Guid.NewGuid():N}.txt");
        var start = new ProcessStartInfo(TimeTool)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            RedirectStandardInput = true,
            UseShellExecute = false,
            WorkingDirectory = workDirectory,
        };
        start.ArgumentList.Add("-f");
        start.ArgumentList.Add("%e %M %U %S");
        start.ArgumentList.Add("-o");
        start.ArgumentList.Add(timeFile);
        start.ArgumentList.Add("--");
        start.ArgumentList.Add(fileName);
        foreach (var argument in arguments) start.ArgumentList.Add(argument);
        if (environment is not null)
            foreach (var (name, value) in environment) start.Environment[name] = value;

        using var process = Process.Start(start) ?? throw new InvalidOperationException($"could not start {TimeTool} {fileName}");
        process.StandardInput.Close();
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        using var exited = new System.Threading.CancellationTokenSource();
        var monitoring = monitor is null ? Task.CompletedTask : Task.Run(() => monitor(process.Id, exited.Token));
        await process.WaitForExitAsync().ConfigureAwait(false);
        exited.Cancel();
        try { await monitoring.ConfigureAwait(false); }
        catch (OperationCanceledException) { }
        var output = await stdout.ConfigureAwait(false);
        var error = await stderr.ConfigureAwait(false);
        try
        {
            return new MeasuredRun(ParseTimeOutput(File.ReadAllText(timeFile), fileName), process.ExitCode, output, error);
        }
        finally
        {
            File.Delete(timeFile);
        }
    }

    /// <summary>Reads the last line of GNU time's output (earlier lines say "Command exited with non-zero status").</summary>
    public static ProcessCost ParseTimeOutput(string text, string what)
    {
        var lines = text.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        var fields = lines.Length == 0 ? [] : lines[^1].Split(' ');
        if (fields.Length != 4
            || !double.TryParse(fields[0], NumberStyles.Float, CultureInfo.InvariantCulture, out var wall)
            || !long.TryParse(fields[1], NumberStyles.Integer, CultureInfo.InvariantCulture, out var rssKiB)
            || !double.TryParse(fields[2], NumberStyles.Float, CultureInfo.InvariantCulture, out var user)
            || !double.TryParse(fields[3], NumberStyles.Float, CultureInfo.InvariantCulture, out var system))
            throw new FormatException($"unexpected output of {TimeTool} for {what}: '{text.Trim()}'");
        return new ProcessCost(wall, rssKiB * 1024, user, system);
    }
}
