using System;
using System.Collections.Generic;
using System.Diagnostics;
using System.Globalization;
using System.IO;
using System.Linq;
using System.Net.Http;
using System.Threading;
using System.Threading.Tasks;
using XetPs.Hub;

namespace XetPs.Bench.SideBySide;

/// <summary>
/// The soak: the reported seed incident at full size (48.5 GB, 2366 terms over 932 xorbs, ranges shared far apart)
/// downloaded once with a 64 MiB buffer, the case on which the reference client froze for good. The client runs as its
/// own process under GNU time while its resident set and the bytes it writes to files are sampled twice a second; the output is then
/// checked against the listed sha256 and deleted. The emulator (started by <c>bench/soak</c>) generates the xorbs on
/// request, so the disk holds one copy of the file.
/// </summary>
public static class SoakCommand
{
    private static readonly TimeSpan Interval = TimeSpan.FromMilliseconds(500);

    [BenchCommand("soak", "--hub URL [--bytes N] [--client engine|cmdlet] [--buffer-mib 64] [--interrupt-at PERCENT] [--work DIR] [--json FILE] [--keep-output] [--repo-root DIR]")]
    private static async Task<int> RunAsync(string[] args)
    {
        Uri? hub = null;
        long bytes = BenchDataPlan.SoakDefaultBytes, bufferMiB = 64;
        string clientName = "engine", work = Path.Combine(Path.GetTempPath(), "xetps-soak");
        string? json = null, root = null;
        double? interruptAt = null;
        var keep = false;
        for (var i = 0; i < args.Length; i++)
        {
            string Value() => i + 1 < args.Length ? args[++i] : throw new ArgumentException($"{args[i]} needs a value");
            switch (args[i])
            {
                case "--hub": hub = new Uri(Value().TrimEnd('/') + "/"); break;
                case "--bytes": bytes = long.Parse(Value(), CultureInfo.InvariantCulture); break;
                case "--client": clientName = Value(); break;
                case "--buffer-mib": bufferMiB = long.Parse(Value(), CultureInfo.InvariantCulture); break;
                case "--work": work = Value(); break;
                case "--json": json = Value(); break;
                case "--keep-output": keep = true; break;
                case "--interrupt-at": interruptAt = double.Parse(Value(), CultureInfo.InvariantCulture); break;
                case "--repo-root": root = Value(); break;
                default: throw new ArgumentException($"unknown argument {args[i]}");
            }
        }
        if (hub is null) throw new ArgumentException("--hub URL is required (bench/soak starts the emulator and passes it)");
        if (clientName is not ("engine" or "cmdlet")) throw new ArgumentException("--client is engine or cmdlet");
        if (interruptAt is not (null or > 0 and < 100)) throw new ArgumentException("--interrupt-at is a percentage between 0 and 100");
        root ??= SideBySideCommand.FindRepoRoot();

        using var http = new HttpClient();
        var dataset = await BenchDataset.LoadAsync(http, hub, "seed-incident-soak", RepoId.Parse("bench/soak"),
                                                   BenchDataPlan.SoakPath(bytes), "soak").ConfigureAwait(false);
        var fileBytes = dataset.TotalBytes;
        Directory.CreateDirectory(work);
        var free = new DriveInfo(Path.GetFullPath(work)).AvailableFreeSpace;
        if (free < fileBytes + (1L << 30))
        {
            Console.Error.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"soak: {work} has {free / 1e9:F1} GB free; the file needs {fileBytes / 1e9:F1} GB and 1 GiB to spare (pick another --work, or a smaller --bytes)"));
            return 2;
        }

        var env = new BenchEnvironment(hub, root, typeof(SoakCommand).Assembly.Location, null, bufferMiB << 20);
        var client = BenchClient.All(16).Single(c => c.Name == clientName);
        var dest = Path.Combine(work, "soak-output");
        if (Directory.Exists(dest)) Directory.Delete(dest, recursive: true);
        Directory.CreateDirectory(dest);
        var load = SideBySideCommand.LoadAverage();
        try
        {
            var command = client.Command(env, dataset, dest);
            SoakInterruption? interruption = null;
            List<SoakSample>? killedSamples = null;
            if (interruptAt is double percent)
            {
                // A first run killed part-way, as a reboot would end a nightly job: nothing may reach the destination,
                // and the run below must continue the partial file rather than start again.
                Console.Error.WriteLine(string.Create(CultureInfo.InvariantCulture,
                    $"soak: {clientName} downloading {dataset.Path} ({fileBytes / 1e9:F1} GB), to be killed at {percent:F0}%..."));
                var (killed, early) = await RunClientAsync(command, work, fileBytes, (long)(fileBytes * percent / 100)).ConfigureAwait(false);
                killedSamples = early;
                var partials = Directory.Exists(Path.Combine(dest, ".cache"))
                    ? Directory.EnumerateFiles(Path.Combine(dest, ".cache"), "*.incomplete", SearchOption.AllDirectories).Sum(f => new FileInfo(f).Length)
                    : 0;
                interruption = new SoakInterruption(percent, killed.Cost.WallSeconds, early.Count > 0 ? early[^1].WrittenBytes : 0,
                                                    !File.Exists(Path.Combine(dest, dataset.Path!)), partials, null);
            }
            Console.Error.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"soak: {clientName} downloading {dataset.Path} ({fileBytes / 1e9:F1} GB) with a {bufferMiB} MiB buffer into {dest}..."));
            var (run, taken) = await RunClientAsync(command, work, fileBytes, killAtBytes: null).ConfigureAwait(false);
            string? failure = run.ExitCode != 0
                ? $"exit {run.ExitCode}: {SideBySideCommand.LastLine(run.StandardError)}"
                : interruption is { DestinationUntouched: false } ? "the killed run changed the destination"
                : await SideBySideCommand.VerifyFilesAsync(dataset, dest).ConfigureAwait(false);
            if (interruption is not null)
                interruption = interruption with { RerunReceivedBytes = ReceivedBytes(run.StandardOutput) };

            var (min, median, max) = SoakReport.SteadyRss(taken);
            var summary = new SoakSummary(fileBytes, clientName, bufferMiB << 20, run.Cost.WallSeconds, run.Cost.PeakRssBytes,
                                          run.Cost.CpuSeconds, SoakReport.LongestWritePause(taken), min, median, max,
                                          SoakReport.Timeline(taken, fileBytes), failure, interruption);
            var loadAfter = SideBySideCommand.LoadAverage();
            Console.WriteLine($"load average before: {load}; after: {loadAfter}; {Environment.ProcessorCount} processors");
            Console.WriteLine("timeline (share written, seconds, RSS): " + string.Join("; ", summary.Timeline));
            Console.WriteLine(SoakReport.Line(summary));
            if (json is not null)
            {
                var document = new
                {
                    when_utc = DateTime.UtcNow.ToString("u", CultureInfo.InvariantCulture),
                    machine = new { processors = Environment.ProcessorCount, load_average_before = load, load_average_after = loadAfter },
                    dataset = new { dataset.Name, repo = dataset.Repo.ResolvePrefix, dataset.Path, bytes = fileBytes },
                    summary,
                    line = SoakReport.Line(summary),
                    samples = taken,
                    killed_run_samples = killedSamples,
                };
                await File.WriteAllTextAsync(json, BenchReport.Json(document)).ConfigureAwait(false);
            }
            return failure is null ? 0 : 1;
        }
        finally
        {
            if (!keep) Directory.Delete(dest, recursive: true);
        }
    }

    private static async Task<(MeasuredRun Run, List<SoakSample> Samples)> RunClientAsync(ClientCommand command, string work,
                                                                                           long fileBytes, long? killAtBytes)
    {
        await SideBySideCommand.FlushDirtyPagesAsync().ConfigureAwait(false);
        var samples = new List<SoakSample>();
        var run = await MeasuredProcess.RunAsync(command.FileName, command.Arguments, work, command.Environment,
            (pid, ct) => SampleAsync(pid, samples, fileBytes, killAtBytes, ct)).ConfigureAwait(false);
        lock (samples) return (run, [.. samples]);
    }

    /// <summary>The engine driver's <c>"received":N</c> (bytes from the network), or null for a client that does not say.</summary>
    private static long? ReceivedBytes(string standardOutput)
    {
        var match = System.Text.RegularExpressions.Regex.Match(standardOutput, "\"received\":\\s*([0-9]+)");
        return match.Success ? long.Parse(match.Groups[1].Value, CultureInfo.InvariantCulture) : null;
    }

    /// <summary>Samples the client (GNU time's child) until it exits; prints a progress line now and then; kills it
    /// (SIGKILL) once it has written <paramref name="killAtBytes"/>.</summary>
    private static async Task SampleAsync(int timePid, List<SoakSample> samples, long fileBytes, long? killAtBytes, CancellationToken ct)
    {
        var clock = Stopwatch.StartNew();
        int? client = null;
        var lastPrint = TimeSpan.Zero;
        while (!ct.IsCancellationRequested)
        {
            client ??= ChildOf(timePid);
            if (client is int pid && TryRead(pid, out var rss, out var written))
            {
                lock (samples) samples.Add(new SoakSample(clock.Elapsed.TotalSeconds, rss, written));
                if (written >= killAtBytes)
                {
                    try { Process.GetProcessById(pid).Kill(); }
                    catch (ArgumentException) { } // it had already exited
                    catch (InvalidOperationException) { }
                    killAtBytes = null;
                }
                if (clock.Elapsed - lastPrint >= TimeSpan.FromSeconds(10))
                {
                    lastPrint = clock.Elapsed;
                    Console.Error.WriteLine(string.Create(CultureInfo.InvariantCulture,
                        $"  {clock.Elapsed.TotalSeconds,6:F0} s  {100.0 * written / fileBytes,5:F1}% written  rss {rss / BenchReport.MiB,5:F0} MiB"));
                }
            }
            await Task.Delay(Interval, ct).ConfigureAwait(false);
        }
    }

    /// <summary>The process whose parent is <paramref name="parent"/> (GNU time runs exactly one), or null before it starts.</summary>
    private static int? ChildOf(int parent)
    {
        foreach (var dir in Directory.EnumerateDirectories("/proc"))
        {
            if (!int.TryParse(Path.GetFileName(dir), out var pid)) continue;
            try
            {
                // /proc/PID/stat: "pid (comm) state ppid ...": the comm may hold spaces, so read after its closing paren.
                var stat = File.ReadAllText(Path.Combine(dir, "stat"));
                var fields = stat[(stat.LastIndexOf(')') + 2)..].Split(' ');
                if (int.Parse(fields[1], CultureInfo.InvariantCulture) == parent) return pid;
            }
            catch (IOException) { } // the process ended while we looked
            catch (UnauthorizedAccessException) { }
        }
        return null;
    }

    private static bool TryRead(int pid, out long rss, out long written)
    {
        rss = written = 0;
        try
        {
            foreach (var line in File.ReadLines($"/proc/{pid}/status"))
                if (line.StartsWith("VmRSS:", StringComparison.Ordinal))
                    rss = long.Parse(line.Split(' ', StringSplitOptions.RemoveEmptyEntries)[1], CultureInfo.InvariantCulture) * 1024;
            // write_bytes, not wchar: wchar also counts the runtime's writes to pipes and eventfds (thread wake-ups),
            // which go on while a stalled download writes nothing to its file.
            foreach (var line in File.ReadLines($"/proc/{pid}/io"))
                if (line.StartsWith("write_bytes:", StringComparison.Ordinal))
                    written = long.Parse(line.AsSpan(12).Trim(), CultureInfo.InvariantCulture);
            return rss > 0;
        }
        catch (IOException) { return false; } // it exited between two samples
        catch (UnauthorizedAccessException) { return false; }
    }
}
