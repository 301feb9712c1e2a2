using System;
using System.Collections.Generic;
using System.Diagnostics;
using System.Globalization;
using System.IO;
using System.Linq;
using System.Runtime.InteropServices;
using System.Security.Cryptography;
using System.Threading;
using System.Threading.Tasks;
using XetPs.Bench.SideBySide;
using XetPs.Emulator;
using XetPs.Emulator.Scenario;
using XetPs.Emulator.Store;
using XetPs.Hub;
using XetPs.Reconstruction;

namespace XetPs.Bench.Nightly;

/// <summary>
/// Issue 33's measurement of a nightly job: a large file on the Hub is replaced by a small revision of it, and each
/// client downloads the revision into a folder that holds the old version as that client left it. The emulator runs in
/// this process on a scratch store; XetPs is a fresh <see cref="XetSession"/> at its defaults per download (in this
/// process), the cmdlet <c>Save-XetFile</c> through tools/ps, huggingface.js its <c>downloadFile</c>, curl the resolve
/// URL with <c>-L</c>. Bytes fetched are what the emulator sent during that one download (its request log, every route);
/// every download's file is checked by sha256 against the generator's bytes. Exit code 1 when any download failed.
/// </summary>
public static class NightlyCommand
{
    private const string FilePath = "weights/model.bin";
    private static readonly RepoId Repo = new(RepoType.Model, "bench/nightly");

    /// <summary>A revision to measure: its edit, its file for the emulator and its expected sha256.</summary>
    private sealed record Revision(NightlyVariant Variant, RepoFile File, string Sha256, long Size);

    /// <summary>What every client needs: the emulator's URL, the Hub token it accepts, the repository's root, the bound.</summary>
    private sealed record Setting(string Hub, string Token, string RepoRoot, string Work, TimeSpan Timeout);

    /// <summary>How one download ended: its wall time, and for XetPs the bytes reused, for the cmdlet its own clock.</summary>
    private sealed record ClientRun(double WallSeconds, string? Error, long? BytesReused = null, double? OwnSeconds = null);

    [BenchCommand("nightly", NightlyOptions.Usage)]
    private static async Task<int> RunAsync(string[] args)
    {
        var options = NightlyOptions.Parse(args);
        var root = options.RepoRoot ?? FindRepoRoot();
        var missing = MissingTools(options.Clients, root);
        if (missing.Count > 0)
        {
            foreach (var line in missing) Console.Error.WriteLine("nightly: " + line);
            return 2;
        }
        var work = options.Work ?? Path.Combine(Path.GetTempPath(), "xetps-nightly-" + Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(work);
        Console.WriteLine($"load: {LoadAverage()}");
        try
        {
            await using var server = await EmulatorServer.StartAsync(new EmulatorOptions { StoreDirectory = Path.Combine(work, "store") }).ConfigureAwait(false);
            var setting = new Setting(server.BaseUrl.ToString().TrimEnd('/'), EmulatorOptions.DefaultHubToken, root, work, options.Timeout);
            var size = options.SizeBytes;
            var baseFile = ScenarioData.IncompressibleFile(FilePath, size, options.Seed).AsXet();
            var baseSha256 = Sha256Of(ScenarioData.Incompressible(size, options.Seed));
            var revisions = options.Plan().Select(v =>
            {
                // New bytes from another seed: nothing in them is a chunk of the base.
                Stream Open() => v.Open(ScenarioData.Incompressible(size, options.Seed), ScenarioData.Incompressible(v.Inserted, options.Seed + 1));
                var key = string.Create(CultureInfo.InvariantCulture, $"nightly:{v.Name}:{size}:{v.Offset}:{v.Removed}:{v.Inserted}:{options.Seed}");
                return new Revision(v, RepoFile.FromStream(FilePath, Open, key).AsXet(), Sha256Of(Open()), v.RevisedSize(size));
            }).ToList();
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"nightly: base {options.SizeMiB} MiB incompressible; revisions {string.Join(", ", revisions.Select(r => $"{r.Variant.Name} ({r.Variant.Removed} bytes at {r.Variant.Offset} replaced by {r.Variant.Inserted})"))}; clients {string.Join(", ", options.Clients)}; {options.Reps} repetitions; old copies {(options.WarmOldCopy ? "left in the page cache" : "evicted from the page cache")}"));

            var samples = new List<NightlySample>();
            var failures = new List<string>();
            for (var rep = 1; rep <= options.Reps; rep++)
            {
                // Rotated by one each repetition, so no client always follows the same other one.
                var order = BenchReport.HeadToHeadRoundOrder(options.Clients, rep - 1);
                foreach (var revision in revisions)
                {
                    var name = revision.Variant.Name;
                    var watch = Stopwatch.StartNew();
                    await server.Store.CommitAsync(Repo, "main", [baseFile], new CommitOptions { Title = "Base" }).ConfigureAwait(false);
                    var ready = new List<string>();
                    foreach (var client in order)
                    {
                        var run = await DownloadAsync(client, setting).ConfigureAwait(false);
                        var error = run.Error ?? Mismatch(Destination(work, client), baseSha256);
                        if (error is null) ready.Add(client);
                        else failures.Add($"rep {rep} {name} {client}: the base download failed: {error}");
                    }
                    // A nightly job finds yesterday's copy on disk, not in memory.
                    if (!options.WarmOldCopy)
                        foreach (var client in ready) DropFromPageCache(Destination(work, client));
                    await server.Store.CommitAsync(Repo, "main", [revision.File], new CommitOptions { Title = "Revision " + name }).ConfigureAwait(false);
                    if (rep == 1) Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"{name}: base committed, downloaded by every client and revision committed in {watch.Elapsed.TotalSeconds:F1} s"));

                    foreach (var client in ready)
                    {
                        // The earlier download's writes are flushed first, so they do not land on this one.
                        Sync();
                        server.Log.Clear();
                        var run = await DownloadAsync(client, setting).ConfigureAwait(false);
                        var entries = server.Log.Entries;
                        var error = run.Error
                                    ?? Mismatch(Destination(work, client), revision.Sha256)
                                    ?? (server.Log.TotalCount > entries.Count ? $"the request log dropped {server.Log.TotalCount - entries.Count} entries" : null);
                        if (error is not null)
                        {
                            failures.Add($"rep {rep} {name} {client}: {error}");
                            Console.WriteLine($"rep {rep} {name} {client}: FAILED: {error}");
                            continue;
                        }
                        var sample = new NightlySample(name, client, rep, run.WallSeconds, entries.Sum(e => e.BytesSent), entries.Count, run.BytesReused, run.OwnSeconds);
                        samples.Add(sample);
                        var reused = sample.BytesReused is { } r ? string.Create(CultureInfo.InvariantCulture, $", reused {r / 1048576.0:F1} MiB") : "";
                        var own = sample.OwnSeconds is { } o ? string.Create(CultureInfo.InvariantCulture, $", own clock {o:F2} s") : "";
                        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                            $"rep {rep} {name} {client}: {sample.WallSeconds:F2} s, fetched {sample.BytesFetched / 1048576.0:F1} MiB in {sample.Requests} requests{reused}{own}"));
                    }
                }
            }

            var variants = revisions.Select(r => r.Variant.Name).ToList();
            var rows = NightlyReport.Rows(samples, variants, options.Clients);
            Console.WriteLine();
            Console.Write(NightlyReport.Table(rows, revisions.ToDictionary(r => r.Variant.Name, r => r.Size)));
            Console.WriteLine();
            foreach (var failure in failures) Console.WriteLine("void: " + failure);
            Console.WriteLine($"load: {LoadAverage()}");
            foreach (var variant in variants) Console.WriteLine(NightlyReport.SummaryLine(variant, options.SizeMiB, rows));
            return failures.Count == 0 ? 0 : 1;
        }
        finally
        {
            try
            {
                Directory.Delete(work, recursive: true);
            }
            catch (IOException e)
            {
                Console.Error.WriteLine($"nightly: could not remove {work}: {e.Message}");
            }
        }
    }

    /// <summary>The file a client writes: every client saves the repo path under a folder of its own, which keeps the
    /// old version between the base download and the revision's.</summary>
    private static string Destination(string work, string client) => Path.Combine(ClientFolder(work, client), "weights", "model.bin");

    private static string ClientFolder(string work, string client) => Path.Combine(work, "clients", client);

    private static Task<ClientRun> DownloadAsync(string client, Setting setting) => client switch
    {
        "xetps" => XetPsAsync(setting),
        "cmdlet" => RunProcessAsync(Path.Combine(setting.RepoRoot, "tools", "ps"), ["-Command", CmdletScript(setting)], setting.Timeout, ownClock: true),
        "hfjs" => RunProcessAsync("node",
            [Path.Combine(setting.RepoRoot, "bench", "hfjs", "download.mjs"), "--hub", setting.Hub, "--repo", Repo.ResolvePrefix, "--path", FilePath,
             "--dest", ClientFolder(setting.Work, client), "--token", setting.Token], setting.Timeout),
        "curl" => CurlAsync(setting),
        _ => throw new ArgumentException($"unknown client {client}"),
    };

    /// <summary>The engine at its defaults (and the module's environment), a fresh session per download, in this process.</summary>
    private static async Task<ClientRun> XetPsAsync(Setting setting)
    {
        var options = XetSessionOptions.FromEnvironment();
        options.Endpoint = new Uri(setting.Hub);
        options.HubToken = setting.Token;
        var clock = Stopwatch.StartNew();
        using var bound = new CancellationTokenSource(setting.Timeout);
        try
        {
            FileDownloadResult result;
            await using (var session = new XetSession(options))
                result = await session.DownloadAsync(new FileDownloadRequest(Repo, "main", FilePath, Destination(setting.Work, "xetps")), null, bound.Token)
                    .ConfigureAwait(false);
            return new ClientRun(clock.Elapsed.TotalSeconds, null, result.BytesReused);
        }
        catch (Exception e)
        {
            return new ClientRun(clock.Elapsed.TotalSeconds, e.GetType().Name + ": " + FirstLine(e.Message));
        }
    }

    /// <summary>Save-XetFile as a nightly job types it: no -Force, the old copy in the destination folder.</summary>
    private static string CmdletScript(Setting setting)
    {
        static string Quote(string s) => "'" + s.Replace("'", "''") + "'";
        return "$xetpsBenchClock = [System.Diagnostics.Stopwatch]::StartNew(); " +
               $"Save-XetFile -Repo {Quote(Repo.ResolvePrefix)} -Path {Quote(FilePath)} -Destination {Quote(ClientFolder(setting.Work, "cmdlet"))} " +
               $"-Endpoint {Quote(setting.Hub)} -Token (ConvertTo-SecureString {Quote(setting.Token)} -AsPlainText -Force) -ErrorAction Stop | Out-Null; " +
               "[Console]::Out.WriteLine('{\"seconds\":' + $xetpsBenchClock.Elapsed.TotalSeconds.ToString([System.Globalization.CultureInfo]::InvariantCulture) + '}')";
    }

    /// <summary>The whole file from the resolve URL, following the redirect, as a script without a Xet client does.</summary>
    private static Task<ClientRun> CurlAsync(Setting setting)
    {
        var destination = Destination(setting.Work, "curl");
        Directory.CreateDirectory(Path.GetDirectoryName(destination)!);
        return RunProcessAsync("curl",
            ["-sS", "--fail", "-L", "-H", "Authorization: Bearer " + setting.Token, "-o", destination, $"{setting.Hub}/{Repo.ResolvePrefix}/resolve/main/{FilePath}"],
            setting.Timeout);
    }

    /// <summary>One client process, timed from its start to its exit; killed (its whole tree) past the bound.</summary>
    private static async Task<ClientRun> RunProcessAsync(string fileName, IReadOnlyList<string> arguments, TimeSpan timeout, bool ownClock = false)
    {
        var start = new ProcessStartInfo(fileName)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            RedirectStandardInput = true,
            UseShellExecute = false,
        };
        foreach (var argument in arguments) start.ArgumentList.Add(argument);
        var clock = Stopwatch.StartNew();
        using var process = Process.Start(start) ?? throw new InvalidOperationException($"could not start {fileName}");
        process.StandardInput.Close();
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        using var bound = new CancellationTokenSource(timeout);
        try
        {
            await process.WaitForExitAsync(bound.Token).ConfigureAwait(false);
        }
        catch (OperationCanceledException)
        {
            process.Kill(entireProcessTree: true);
            await process.WaitForExitAsync().ConfigureAwait(false);
            return new ClientRun(clock.Elapsed.TotalSeconds, $"{Path.GetFileName(fileName)} ran past {timeout.TotalSeconds:F0} s and was killed");
        }
        var wall = clock.Elapsed.TotalSeconds;
        var output = await stdout.ConfigureAwait(false);
        var error = await stderr.ConfigureAwait(false);
        if (process.ExitCode != 0)
            return new ClientRun(wall, $"{Path.GetFileName(fileName)} exited with {process.ExitCode}: {FirstLine(error)}");
        return new ClientRun(wall, null, OwnSeconds: ownClock ? BenchReport.InProcessSeconds(output) : null);
    }

    /// <summary>Null when the file has the expected bytes, else what is wrong with it.</summary>
    private static string? Mismatch(string path, string expectedSha256)
    {
        if (!File.Exists(path)) return "no file at the destination";
        var actual = Sha256Of(File.OpenRead(path));
        return actual == expectedSha256 ? null : $"sha256 {actual[..16]}... is not the expected {expectedSha256[..16]}...";
    }

    private static string Sha256Of(Stream stream)
    {
        using (stream) return Convert.ToHexStringLower(SHA256.HashData(stream));
    }

    /// <summary>What the chosen clients need and this machine lacks, said with how to get it.</summary>
    private static List<string> MissingTools(IReadOnlyList<string> clients, string root)
    {
        var missing = new List<string>();
        if (clients.Contains("cmdlet") && !File.Exists(Path.Combine(root, "tools", "ps")))
            missing.Add($"the cmdlet client needs tools/ps under {root} (or give --repo-root)");
        if (clients.Contains("hfjs") && !Directory.Exists(Path.Combine(root, "bench", "hfjs", "node_modules", "@huggingface", "hub")))
            missing.Add("the hfjs client needs node and @huggingface/hub: (cd bench/hfjs && npm ci)");
        if (clients.Contains("curl") && !OnPath("curl"))
            missing.Add("the curl client needs curl: apt-get install curl");
        return missing;
    }

    private static bool OnPath(string program) =>
        (Environment.GetEnvironmentVariable("PATH") ?? "").Split(Path.PathSeparator, StringSplitOptions.RemoveEmptyEntries)
        .Any(folder => File.Exists(Path.Combine(folder, program)));

    /// <summary>The repository holding XetPs.sln, above the current folder or this program.</summary>
    private static string FindRepoRoot()
    {
        foreach (var start in new[] { Directory.GetCurrentDirectory(), AppContext.BaseDirectory })
            for (var folder = new DirectoryInfo(start); folder is not null; folder = folder.Parent)
                if (File.Exists(Path.Combine(folder.FullName, "XetPs.sln"))) return folder.FullName;
        throw new ArgumentException("the repository's root (with XetPs.sln) is not above the current folder: give --repo-root");
    }

    /// <summary>Evicts a file's pages from the page cache (flushed first, as only clean pages can go), so the next
    /// download reads it from the disk. Linux only; elsewhere the file stays cached and this says so.</summary>
    private static void DropFromPageCache(string path)
    {
        if (!OperatingSystem.IsLinux())
        {
            Console.Error.WriteLine("nightly: not on Linux, the old copies stay in the page cache");
            return;
        }
        Sync();
        using var file = File.OpenHandle(path);
        var status = posix_fadvise((int)file.DangerousGetHandle(), 0, 0, FadviseDontNeed);
        if (status != 0) throw new IOException($"posix_fadvise(DONTNEED) on {path} failed with error {status}");
    }

    private const int FadviseDontNeed = 4;

    [DllImport("libc", EntryPoint = "posix_fadvise")]
    private static extern int posix_fadvise(int fd, long offset, long length, int advice);

    private static void Sync()
    {
        if (OperatingSystem.IsLinux()) sync();
    }

    [DllImport("libc", EntryPoint = "sync")]
    private static extern void sync();

    private static string FirstLine(string text)
    {
        var line = text.Trim().Split('\n')[0].TrimEnd();
        return line.Length <= 300 ? line : line[..300] + "...";
    }

    private static string LoadAverage()
    {
        try
        {
            return string.Join(' ', File.ReadAllText("/proc/loadavg").Split(' ').Take(3));
        }
        catch (IOException)
        {
            return "n/a";
        }
    }
}
