using System;
using System.Collections.Generic;
using System.Globalization;
using System.IO;
using System.Linq;
using System.Net.Http;
using System.Security.Cryptography;
using System.Text.Json;
using System.Threading.Tasks;
using XetPs.Hub;

namespace XetPs.Bench.SideBySide;

/// <summary>
/// The side-by-side run of issue 6: every client on every data set, repeated and interleaved (for each data set,
/// repetition after repetition of A B C ...), so that the load of this shared machine falls on all clients alike.
/// Each run is its own process under GNU time; each output is verified after the run, outside the measurement, and a
/// wrong byte voids the row. The emulator is started by <c>bench/run</c>; this command only needs its endpoint.
/// Then, with <c>--head-to-head N</c>, N more rounds of curl, the engine, the engine at its defaults, the engine in a
/// warm process and the cmdlet (begun at once, and as at a prompt) alone on the incompressible file, which the
/// summary's xetps/curl and the cmdlet layer's paired figure are read from (see <see cref="BenchReport.HeadToHead"/>).
/// </summary>
public static class SideBySideCommand
{
    [BenchCommand("side-by-side",
        "--hub URL (--profile quick|full | --dataset NAME=GROUP:REPO[:PATH] ...) [--reps N] [--clients a,b] [--groups g,h] [--buffer-mib 64] [--curl-parallel 16] [--head-to-head N] [--work DIR] [--json FILE] [--markdown FILE]")]
    private static async Task<int> RunAsync(string[] args)
    {
        var options = Options.Parse(args);
        Directory.CreateDirectory(options.Work);
        var env = new BenchEnvironment(options.Hub, options.RepoRoot, typeof(SideBySideCommand).Assembly.Location,
                                       options.Token, options.BufferMiB << 20);
        var clients = BenchClient.All(options.CurlParallel)
            .Where(c => options.Clients is null || options.Clients.Contains(c.Name)).ToList();
        var curlParallelName = $"curl-p{options.CurlParallel}";

        using var hub = new HttpClient();
        if (options.Token is not null) hub.DefaultRequestHeaders.Authorization = new("Bearer", options.Token);
        var datasets = new List<BenchDataset>();
        foreach (var spec in options.Datasets)
            datasets.Add(await BenchDataset.LoadAsync(hub, options.Hub, spec.Name, spec.Repo, spec.Path, spec.Group).ConfigureAwait(false));

        var samples = new List<BenchSample>();
        var load = LoadAverage();
        foreach (var dataset in datasets)
        {
            var mine = clients.Where(c => c.Supports(dataset) && !c.HeadToHeadOnly).ToList();
            for (var rep = 1; rep <= options.Repetitions; rep++)
                foreach (var client in mine)
                {
                    // Every client starts from the same memory state: right after a data-set-sized scratch file was
                    // written and freed (see WarmPageCacheAsync).
                    await WarmPageCacheAsync(options.Work, dataset.TotalBytes).ConfigureAwait(false);
                    var sample = await RunOnceAsync(client, env, dataset, rep, options.Work).ConfigureAwait(false);
                    samples.Add(sample);
                    Console.Error.WriteLine(string.Create(CultureInfo.InvariantCulture,
                        $"  {dataset.Name,-22} {client.Name,-13} #{rep} {sample.Cost.WallSeconds,7:F2} s {dataset.TotalBytes / sample.Cost.WallSeconds / 1e6,8:F1} MB/s rss {sample.Cost.PeakRssBytes / BenchReport.MiB,6:F0} MiB cpu {sample.Cost.CpuSeconds,6:F2} s{(BenchReport.OwnClockClients.Contains(client.Name) ? $" (timed: {sample.InProcessSeconds:F2} s by its own clock)" : "")} {(sample.Failure is null ? "ok" : "VOID " + sample.Failure)}"));
                }
        }

        var headToHeadSet = datasets.FirstOrDefault(d => d.Group == "incompressible");
        var headToHeadClients = BenchReport.HeadToHeadClients
            .Select(name => clients.FirstOrDefault(c => c.Name == name)).OfType<BenchClient>().ToList();
        if (options.HeadToHeadRounds > 0 && headToHeadSet is not null && headToHeadClients.Count >= 2
            && headToHeadClients[0].Name == BenchReport.HeadToHeadClients[0])
        {
            for (var round = 1; round <= options.HeadToHeadRounds; round++)
            {
                foreach (var client in BenchReport.HeadToHeadRoundOrder(headToHeadClients, round))
                {
                    await WarmPageCacheAsync(options.Work, headToHeadSet.TotalBytes).ConfigureAwait(false);
                    var sample = await RunOnceAsync(client, env, headToHeadSet, round, options.Work).ConfigureAwait(false) with { HeadToHead = true };
                    samples.Add(sample);
                    Console.Error.WriteLine(string.Create(CultureInfo.InvariantCulture,
                        $"  head-to-head {headToHeadSet.Name,-14} {client.Name,-14} #{round} {sample.Cost.WallSeconds,7:F2} s cpu {sample.Cost.CpuSeconds,6:F2} s{(BenchReport.OwnClockClients.Contains(client.Name) || BenchReport.CmdletClients.Contains(client.Name) ? $" (timed: {sample.InProcessSeconds:F2} s by its own clock)" : "")} {(sample.Failure is null ? "ok" : "VOID " + sample.Failure)}"));
                }
            }
        }

        var rows = BenchReport.Rows(samples, datasets, curlParallelName);
        var headToHead = headToHeadSet is null ? null : BenchReport.HeadToHead(samples, headToHeadSet.Name);
        var summary = BenchReport.Summarize(rows, options.BufferMiB, headToHead);
        var markdown = BenchReport.Markdown(rows);
        var headToHeadLine = BenchReport.HeadToHeadLine(summary);
        var loadAfter = LoadAverage();
        var document = new
        {
            when_utc = DateTime.UtcNow.ToString("u", CultureInfo.InvariantCulture),
            machine = new { processors = Environment.ProcessorCount, load_average_before = load, load_average_after = loadAfter },
            repetitions = options.Repetitions,
            head_to_head_rounds = options.HeadToHeadRounds,
            buffer_mib = options.BufferMiB,
            clients = clients.Select(c => new { c.Name, c.Description }),
            datasets = datasets.Select(d => new { d.Name, d.Group, repo = d.Repo.ResolvePrefix, d.Path, files = d.Files.Count, bytes = d.TotalBytes }),
            rows,
            summary,
            head_to_head_line = headToHeadLine,
            transfer_limit_line = BenchReport.TransferLimitLine(summary),
            summary_line = BenchReport.SummaryLine(summary),
            samples,
        };
        if (options.Json is not null) await File.WriteAllTextAsync(options.Json, BenchReport.Json(document)).ConfigureAwait(false);
        if (options.Markdown is not null) await File.WriteAllTextAsync(options.Markdown, markdown).ConfigureAwait(false);

        Console.WriteLine();
        Console.WriteLine($"load average before: {load}; after: {loadAfter}; {Environment.ProcessorCount} processors");
        Console.WriteLine();
        Console.Write(markdown);
        Console.WriteLine();
        if (summary.ScalingSecondsPerGibSpreadPercent is not null)
            Console.WriteLine(BenchReport.ScalingLine(summary));
        if (summary.SeedBuf64OverBuf2g is { } seed)
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"seed shape: 64 MiB buffer / 2 GiB buffer wall = {seed:F2} (target <= 1.25)"));
        if (headToHeadLine is not null) Console.WriteLine(headToHeadLine);
        Console.WriteLine(BenchReport.TransferLimitLine(summary));
        Console.WriteLine(BenchReport.CmdletLine(summary));
        Console.WriteLine(BenchReport.SummaryLine(summary));
        return samples.Any(s => s.Failure is not null) ? 1 : 0;
    }

    [BenchCommand("head-to-head-pool",
        "RESULTS.json RESULTS.json ...: the head-to-head rounds of several bench/run results read as one phase (their lines, pooled)")]
    public static async Task<int> RunPool(string[] args)
    {
        if (args.Length == 0 || args.Any(a => a.StartsWith('-')))
            throw new ArgumentException("give the results files (bench/results/*.json) to pool");
        var documents = new List<string>();
        foreach (var file in args) documents.Add(await File.ReadAllTextAsync(file).ConfigureAwait(false));
        var samples = BenchReport.PoolHeadToHeadRounds(documents);
        var datasets = samples.Select(s => s.Dataset).Distinct().ToList();
        if (datasets.Count != 1)
            throw new ArgumentException(datasets.Count == 0
                ? "no head-to-head runs in these files"
                : $"these files hold head-to-head runs of several data sets ({string.Join(", ", datasets)}); pool runs of one");
        var summary = BenchReport.Summarize([], 64, BenchReport.HeadToHead(samples, datasets[0]));
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"pooled: {args.Length} results files"));
        Console.WriteLine(BenchReport.HeadToHeadLine(summary));
        Console.WriteLine(BenchReport.CmdletLine(summary));
        return summary.HeadToHead?.Void is null ? 0 : 1;
    }

    /// <summary>Runs one client once; returns its sample and the bytes of output deleted after it (freed page cache).</summary>
    private static async Task<BenchSample> RunOnceAsync(BenchClient client, BenchEnvironment env, BenchDataset dataset,
                                                        int rep, string work)
    {
        var dest = Path.Combine(work, $"out-{client.Name}-{rep}");
        if (Directory.Exists(dest)) Directory.Delete(dest, recursive: true);
        Directory.CreateDirectory(dest);
        try
        {
            var command = client.Command(env, dataset, dest);
            await FlushDirtyPagesAsync().ConfigureAwait(false);
            var run = await MeasuredProcess.RunAsync(command.FileName, command.Arguments, work, command.Environment).ConfigureAwait(false);
            string? failure = null;
            if (run.ExitCode != 0)
                failure = $"exit {run.ExitCode}: {LastLine(run.StandardError)}";
            else if (client.WritesFiles)
                failure = await VerifyFilesAsync(dataset, dest).ConfigureAwait(false);
            else
                failure = VerifyRanges(run.StandardOutput, dataset);
            return new BenchSample(client.Name, dataset.Name, rep, run.Cost, dataset.TotalBytes, failure, BenchReport.InProcessSeconds(run.StandardOutput));
        }
        finally
        {
            Directory.Delete(dest, recursive: true);
        }
    }

    /// <summary>
    /// Writes a scratch file of <paramref name="bytes"/> and deletes it at once, outside any measurement, before every
    /// run, so that every client starts from the same memory state. Why: on this virtual machine a guest page that has
    /// been free for a while is handed back to the host and the first touch after that is slow, and how the previous
    /// client left memory changed the next one's system time severalfold: the engine right after curl's output was
    /// deleted spent 4.4-4.75 s of system time on 2 GiB, after this warm-up 1.3-2 s; a client after curl-null or
    /// curl-p16 (which write nothing) started on cold pages; and a file written with O_DIRECT frees no page-cache
    /// pages when deleted. Deleting the scratch file drops its dirty pages unwritten, so this costs no disk I/O.
    /// </summary>
    private static async Task WarmPageCacheAsync(string work, long bytes)
    {
        var scratch = Path.Combine(work, "page-cache-warmup.tmp");
        var block = new byte[1 << 20]; // contents do not matter: the pages are what is wanted
        try
        {
            await using var file = new FileStream(scratch, FileMode.Create, FileAccess.Write, FileShare.None, 1);
            for (long written = 0; written < bytes; written += block.Length)
                await file.WriteAsync(block.AsMemory(0, (int)Math.Min(block.Length, bytes - written))).ConfigureAwait(false);
        }
        finally
        {
            File.Delete(scratch);
        }
    }

    /// <summary>
    /// Writes back the page cache's dirty pages before a measured run (outside it). Why: a GiB-scale file written by
    /// the previous client is still being written back when the next one starts, and once dirty pages pass the
    /// kernel's dirty ratio every writer is throttled; on this machine that alone made one client 2-3x slower than
    /// the same code a minute later (2 GiB Dirty in /proc/meminfo). Each client now starts from the same clean cache.
    /// </summary>
    internal static async Task FlushDirtyPagesAsync()
    {
        using var sync = System.Diagnostics.Process.Start(new System.Diagnostics.ProcessStartInfo("sync") { UseShellExecute = false });
        if (sync is not null) await sync.WaitForExitAsync().ConfigureAwait(false);
    }

    /// <summary>Every expected file is at its repo path under the destination, with the listed size and sha256.</summary>
    internal static async Task<string?> VerifyFilesAsync(BenchDataset dataset, string dest)
    {
        foreach (var file in dataset.Files)
        {
            var path = Path.Combine(dest, file.Path);
            var info = new FileInfo(path);
            if (!info.Exists) return $"{file.Path} missing";
            if (info.Length != file.Size) return $"{file.Path} has {info.Length} bytes, expected {file.Size}";
            await using var stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, 1 << 20, FileOptions.SequentialScan);
            var sha = Convert.ToHexStringLower(await SHA256.HashDataAsync(stream).ConfigureAwait(false));
            if (!string.Equals(sha, file.Sha256, StringComparison.OrdinalIgnoreCase))
                return $"{file.Path} sha256 {sha[..12]}…, expected {file.Sha256[..Math.Min(12, file.Sha256.Length)]}…";
        }
        return null;
    }

    /// <summary>curl's output is the raw ranges, not the file: its script already checked every answer; here the
    /// reconstruction it used must describe the file we list (same size) and the bytes must cover its ranges.</summary>
    private static string? VerifyRanges(string stdout, BenchDataset dataset)
    {
        try
        {
            using var doc = JsonDocument.Parse(LastLine(stdout));
            var root = doc.RootElement;
            var rangeBytes = root.GetProperty("range_bytes").GetInt64();
            var received = root.GetProperty("received_bytes").GetInt64();
            if (received < rangeBytes) return $"received {received} bytes of {rangeBytes}";
            if (root.GetProperty("file_size").ValueKind == JsonValueKind.Number
                && root.GetProperty("file_size").GetInt64() != dataset.TotalBytes)
                return $"resolve gave size {root.GetProperty("file_size").GetInt64()}, the listing {dataset.TotalBytes}";
            return null;
        }
        catch (Exception e) when (e is JsonException or KeyNotFoundException or InvalidOperationException)
        {
            return $"unreadable curl summary '{LastLine(stdout)}': {e.Message}";
        }
    }

    internal static string LastLine(string text) =>
        text.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).LastOrDefault() ?? "";

    internal static string LoadAverage()
    {
        try { return string.Join(' ', File.ReadAllText("/proc/loadavg").Split(' ').Take(3)); }
        catch (IOException) { return "unknown"; }
    }

    private sealed record DatasetSpec(string Name, string Group, RepoId Repo, string? Path);

    private sealed record Options(Uri Hub, IReadOnlyList<DatasetSpec> Datasets, int Repetitions, HashSet<string>? Clients,
                                  long BufferMiB, int CurlParallel, int HeadToHeadRounds, string Work, string? Json, string? Markdown,
                                  string? Token, string RepoRoot)
    {
        public static Options Parse(string[] args)
        {
            Uri? hub = null; var datasets = new List<DatasetSpec>(); var reps = 3; HashSet<string>? clients = null, groups = null;
            long buffer = 64; var curlParallel = 16; var headToHead = 0; string? work = null, json = null, markdown = null, token = null;
            string? root = null;
            for (var i = 0; i < args.Length; i++)
            {
                string Value() => i + 1 < args.Length ? args[++i] : throw new ArgumentException($"{args[i]} needs a value");
                switch (args[i])
                {
                    case "--hub": hub = new Uri(Value().TrimEnd('/') + "/"); break;
                    case "--dataset": datasets.Add(ParseDataset(Value())); break;
                    case "--profile":
                        datasets.AddRange(BenchDataPlan.For(Value()).Select(d => new DatasetSpec(d.Name, d.Group, d.Repo, d.Path)));
                        break;
                    case "--reps": reps = int.Parse(Value(), CultureInfo.InvariantCulture); break;
                    case "--clients": clients = [.. Value().Split(',', StringSplitOptions.RemoveEmptyEntries)]; break;
                    case "--groups": groups = [.. Value().Split(',', StringSplitOptions.RemoveEmptyEntries)]; break;
                    case "--buffer-mib": buffer = long.Parse(Value(), CultureInfo.InvariantCulture); break;
                    case "--curl-parallel": curlParallel = int.Parse(Value(), CultureInfo.InvariantCulture); break;
                    case "--head-to-head": headToHead = int.Parse(Value(), CultureInfo.InvariantCulture); break;
                    case "--work": work = Value(); break;
                    case "--json": json = Value(); break;
                    case "--markdown": markdown = Value(); break;
                    case "--token": token = Value(); break;
                    case "--repo-root": root = Value(); break;
                    default: throw new ArgumentException($"unknown argument {args[i]}");
                }
            }
            if (hub is null) throw new ArgumentException("--hub URL is required (bench/run starts the emulator and passes it)");
            if (groups is not null)
            {
                // --groups scaling,seed: only those data sets of the profile (a part of the run, measured the same way).
                var unknown = groups.Where(g => !datasets.Any(d => d.Group == g)).ToList();
                if (unknown.Count > 0)
                    throw new ArgumentException($"--groups: no data set of group {string.Join(", ", unknown)} (groups here: {string.Join(", ", datasets.Select(d => d.Group).Distinct())})");
                datasets.RemoveAll(d => !groups.Contains(d.Group));
            }
            if (datasets.Count == 0) throw new ArgumentException("--profile quick|full or at least one --dataset NAME=GROUP:REPO[:PATH] is required");
            if (reps < 1 || buffer < 1 || curlParallel < 1) throw new ArgumentException("--reps, --buffer-mib and --curl-parallel must be >= 1");
            if (headToHead < 0) throw new ArgumentException("--head-to-head must be >= 0 (rounds; 0: none)");
            root ??= FindRepoRoot();
            work ??= Path.Combine(Path.GetTempPath(), "xetps-bench-work");
            return new Options(hub, datasets, reps, clients, buffer, curlParallel, headToHead, work, json, markdown, token, root);
        }

        private static DatasetSpec ParseDataset(string text)
        {
            // NAME=GROUP:REPO[:PATH]; the repo id has no ':' and a path may (so split at most twice).
            var eq = text.IndexOf('=');
            var parts = eq > 0 ? text[(eq + 1)..].Split(':', 3) : [];
            if (parts.Length < 2) throw new ArgumentException($"--dataset '{text}': expected NAME=GROUP:REPO[:PATH]");
            return new DatasetSpec(text[..eq], parts[0], RepoId.Parse(parts[1]), parts.Length == 3 ? parts[2] : null);
        }
    }

    internal static string FindRepoRoot()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
            if (File.Exists(Path.Combine(dir.FullName, "XetPs.sln"))) return dir.FullName;
        throw new DirectoryNotFoundException("cannot find the repository root (XetPs.sln) above the bench assembly; pass --repo-root");
    }
}
