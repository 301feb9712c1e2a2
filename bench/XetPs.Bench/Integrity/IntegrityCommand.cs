using System;
using System.Collections.Generic;
using System.Diagnostics;
using System.Globalization;
using System.IO;
using System.Linq;
using System.Security.Cryptography;
using System.Threading;
using System.Threading.Tasks;
using XetPs.Emulator;
using XetPs.Emulator.Scenario;
using XetPs.Emulator.Store;
using XetPs.Hub;
using XetPs.Reconstruction;

namespace XetPs.Bench.Integrity;

/// <summary>
/// Issue 28's measurement of "corruption in transit is recovered, never accepted": the emulator in this process with
/// one generated file, a <see cref="CorruptingProxy"/> in front of it, then downloads of that file one after another,
/// each by a fresh session at its default settings through the proxy into a fresh folder. Each is judged on the
/// destination's sha256 against the generator's bytes (never on what the engine reports): byte-exact, failed cleanly,
/// or wrong. Exit code 1 when any is wrong.
/// </summary>
public static class IntegrityCommand
{
    private const string FilePath = "weights/integrity.bin";
    private static readonly RepoId Repo = new(RepoType.Model, "bench/integrity");

    [BenchCommand("integrity",
        "[--rate 0.2] [--downloads 10] [--size-mib 70] [--content incompressible|floats] [--seed 1] [--timeout-s 600] [--work DIR]: downloads through a proxy that corrupts xorb answers")]
    private static async Task<int> RunAsync(string[] args)
    {
        var rate = 0.2;
        var downloads = 10;
        var sizeMiB = 70L;
        var content = "incompressible";
        var seed = 1;
        var timeout = TimeSpan.FromMinutes(10);
        string? work = null;
        for (var i = 0; i < args.Length; i++)
        {
            string Value() => i + 1 < args.Length ? args[++i] : throw new ArgumentException($"{args[i]} needs a value");
            switch (args[i])
            {
                case "--rate": rate = double.Parse(Value(), CultureInfo.InvariantCulture); break;
                case "--downloads": downloads = int.Parse(Value(), CultureInfo.InvariantCulture); break;
                case "--size-mib": sizeMiB = long.Parse(Value(), CultureInfo.InvariantCulture); break;
                case "--content": content = Value(); break;
                case "--seed": seed = int.Parse(Value(), CultureInfo.InvariantCulture); break;
                case "--timeout-s": timeout = TimeSpan.FromSeconds(double.Parse(Value(), CultureInfo.InvariantCulture)); break;
                case "--work": work = Value(); break;
                default: throw new ArgumentException($"unknown argument {args[i]}");
            }
        }
        if (!(rate >= 0 && rate <= 1)) throw new ArgumentException("--rate must be within 0..1");
        if (downloads < 1) throw new ArgumentException("--downloads must be >= 1");
        if (sizeMiB < 1) throw new ArgumentException("--size-mib must be >= 1");
        var size = sizeMiB << 20;
        var (file, generate) = content switch
        {
            "incompressible" => (ScenarioData.IncompressibleFile(FilePath, size, seed), (Func<Stream>)(() => ScenarioData.Incompressible(size, seed))),
            // BG4+LZ4 chunks: a damaged byte mostly shows as a chunk that does not decode, not only as a wrong hash.
            "floats" => (ScenarioData.FloatLikeFile(FilePath, size, seed), () => ScenarioData.FloatLike(size, seed)),
            _ => throw new ArgumentException("--content must be incompressible or floats"),
        };
        work ??= Path.Combine(Path.GetTempPath(), "xetps-integrity-" + Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(work);
        Console.WriteLine($"load: {LoadAverage()}");
        try
        {
            await using var server = await EmulatorServer.StartAsync(new EmulatorOptions { StoreDirectory = Path.Combine(work, "store") }).ConfigureAwait(false);
            var watch = Stopwatch.StartNew();
            await server.Store.CommitAsync(Repo, "main", [file], new CommitOptions { Title = "Integrity benchmark" }).ConfigureAwait(false);
            var expected = Sha256Of(generate());
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"integrity: {content} file of {sizeMiB} MiB committed in {watch.Elapsed.TotalSeconds:F1} s (sha256 {expected[..16]}...); proxy rate {rate:F2}, seed {seed}"));

            await using var proxy = CorruptingProxy.Start(rate, seed);
            var results = new List<IntegrityDownload>();
            for (var n = 1; n <= downloads; n++)
            {
                var result = await DownloadOnceAsync(n, server.BaseUrl, proxy, Path.Combine(work, $"download-{n:D2}"), expected, timeout).ConfigureAwait(false);
                results.Add(result.Download);
                Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                    $"download {n}: {result.Download.Outcome} ({result.Download.Detail}) in {result.Download.Seconds:F2} s; {result.Download.CorruptedResponses} of {result.Download.XorbResponses} xorb answers corrupted, {result.Download.Redownloads} re-downloads"));
                if (result.Error is not null) Console.WriteLine("  error: " + FirstLine(result.Error.Message));
            }

            Console.WriteLine();
            Console.Write(IntegrityReport.Table(results));
            Console.WriteLine();
            Console.WriteLine("recovery lines (warnings, and refetches at debug level), by template:");
            var summary = IntegrityReport.RecoverySummary(results).ToList();
            foreach (var line in summary.DefaultIfEmpty("  none")) Console.WriteLine(line);
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"proxy: {proxy.Requests} requests, {proxy.XorbResponses} xorb answers, {proxy.CorruptedResponses} corrupted"));
            Console.WriteLine($"load: {LoadAverage()}");
            Console.WriteLine(IntegrityReport.Summary(results, rate));
            return IntegrityReport.ExitCode(results);
        }
        finally
        {
            try
            {
                Directory.Delete(work, recursive: true);
            }
            catch (IOException e)
            {
                Console.Error.WriteLine($"integrity: could not remove {work}: {e.Message}");
            }
        }
    }

    /// <summary>One download by a fresh session through the proxy, judged on the bytes at its destination, which is then removed.</summary>
    private static async Task<(IntegrityDownload Download, Exception? Error)> DownloadOnceAsync(int index, Uri hub, CorruptingProxy proxy, string folder,
        string expected, TimeSpan timeout)
    {
        Directory.CreateDirectory(folder);
        var destination = Path.Combine(folder, "integrity.bin");
        var log = new RecoveryLog();
        var (xorbBefore, corruptedBefore) = (proxy.XorbResponses, proxy.CorruptedResponses);
        Exception? error = null;
        var clock = Stopwatch.StartNew();
        using (var bound = new CancellationTokenSource(timeout))
        {
            try
            {
                // The defaults a user gets, but for the endpoint and the proxy.
                await using var session = new XetSession(new XetSessionOptions { Endpoint = hub, Proxy = proxy.Url }, log);
                await session.DownloadAsync(new FileDownloadRequest(Repo, "main", FilePath, destination), null, bound.Token).ConfigureAwait(false);
            }
            catch (Exception e)
            {
                error = e;
            }
        }
        var seconds = clock.Elapsed.TotalSeconds;
        string? actual = null;
        if (File.Exists(destination))
        {
            using var bytes = File.OpenRead(destination);
            actual = Sha256Of(bytes);
        }
        var (outcome, detail) = IntegrityReport.Judge(expected, error, actual);
        Directory.Delete(folder, recursive: true);
        return (new IntegrityDownload(index, outcome, detail, seconds, proxy.XorbResponses - xorbBefore, proxy.CorruptedResponses - corruptedBefore,
            new Dictionary<string, int>(log.Counts)), error);
    }

    private static string Sha256Of(Stream stream)
    {
        using (stream) return Convert.ToHexStringLower(SHA256.HashData(stream));
    }

    private static string FirstLine(string text)
    {
        var line = text.Split('\n')[0].TrimEnd();
        return line.Length <= 200 ? line : line[..200] + "...";
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
