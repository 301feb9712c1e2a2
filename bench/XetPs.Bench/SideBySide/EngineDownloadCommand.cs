using System;
using System.Collections.Generic;
using System.Globalization;
using System.IO;
using System.Linq;
using System.Threading;
using System.Threading.Tasks;
using XetPs.Hub;
using XetPs.Reconstruction;

namespace XetPs.Bench.SideBySide;

/// <summary>
/// The engine called directly, as the benchmark's "engine" client: one <see cref="XetSession"/> that downloads one
/// file (resolve, then reconstruction) or every file of a repo (listing, then up to MaxFilesInFlight files at once),
/// with verification on (the default). It is what Save-XetFile does without PowerShell, so the difference between the
/// two rows is the cost of the cmdlet layer. Prints one line: files, bytes, seconds inside the process (one line per
/// pass with --repeat; the "engine-warm" client reads the last).
/// </summary>
public static class EngineDownloadCommand
{
    [BenchCommand("engine-download",
        "--hub URL --repo R --dest DIR (--path P | --all) [--buffer-bytes N] [--segment-bytes N] [--concurrency N] [--token T] [--no-verify] [--no-direct] [--log | --trace] [--memory] [--jit-report] [--repeat N]")]
    private static async Task<int> RunAsync(string[] args)
    {
        string? hub = null, repoText = null, dest = null, path = null, token = null;
        var all = false;
        var log = false;
        var trace = false;
        var memory = false;
        var repeat = 1;
        JitTimeListener? jitReport = null;
        // The same environment the module reads (HF_XET_*, XETPS_*), so a knob works the same on both; the flags below win.
        var options = XetSessionOptions.FromEnvironment();
        for (var i = 0; i < args.Length; i++)
        {
            string Value() => i + 1 < args.Length ? args[++i] : throw new ArgumentException($"{args[i]} needs a value");
            switch (args[i])
            {
                case "--hub": hub = Value(); break;
                case "--repo": repoText = Value(); break;
                case "--dest": dest = Value(); break;
                case "--path": path = Value(); break;
                case "--all": all = true; break;
                case "--token": token = Value(); break;
                case "--buffer-bytes": options.BufferSize = long.Parse(Value(), CultureInfo.InvariantCulture); break;
                case "--segment-bytes": options.SegmentSize = long.Parse(Value(), CultureInfo.InvariantCulture); break;
                case "--concurrency": options.CasConcurrency = int.Parse(Value(), CultureInfo.InvariantCulture); break;
                case "--no-verify": options.Verify = false; break;
                case "--no-direct": options.DirectWrites = false; break;
                case "--log": log = true; break;
                case "--trace": log = trace = true; break;
                case "--memory": memory = true; break;
                case "--jit-report": jitReport = new JitTimeListener(); break;
                case "--repeat":
                    repeat = int.Parse(Value(), CultureInfo.InvariantCulture);
                    if (repeat < 1) throw new ArgumentException("--repeat must be >= 1");
                    break;
                default: throw new ArgumentException($"unknown argument {args[i]}");
            }
        }
        if (hub is null || repoText is null || dest is null || (path is null) == !all)
            throw new ArgumentException("--hub, --repo, --dest and exactly one of --path P / --all are required");
        options.Endpoint = new Uri(hub);
        options.HubToken = token;
        var repo = RepoId.Parse(repoText);

        var watch = System.Diagnostics.Stopwatch.StartNew();
        // --log: the engine's debug lines on stderr, stamped with milliseconds since start (a timeline for profiling).
        Action<XetLogLevel, string>? logLine = log
            ? (level, message) => Console.Error.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"{watch.Elapsed.TotalMilliseconds,8:F1} ms {level}: {message}"))
            : null;
        await using var session = logLine is null ? new XetSession(options)
            : new XetSession(options, new CallbackLogger(logLine, trace ? XetLogLevel.Trace : XetLogLevel.Debug));
        logLine?.Invoke(XetLogLevel.Trace, "Session created");
        using var sampler = memory ? new MemorySampler(session.Resources.Registry) : null;
        var entries = new List<RepoEntry>();
        if (all)
        {
            await foreach (var entry in session.ListFilesAsync(repo, null, null, recursive: true).ConfigureAwait(false))
                entries.Add(entry);
        }
        else
        {
            entries.Add(await session.GetFileAsync(repo, null, path!).ConfigureAwait(false));
            logLine?.Invoke(XetLogLevel.Trace, $"Resolved {path}");
        }

        // --repeat N: the same files N times over in this one process and session, each pass printing its own line. A
        // pass's "seconds" runs from its own start (the first from the session's, as without --repeat), so the last
        // line times a download in a warm process: code compiled to its last tier, pools filled, connections open.
        for (var pass = 1; pass <= repeat; pass++)
        {
            if (pass > 1)
                foreach (var entry in entries) File.Delete(SafePath.Combine(dest, entry.Path));
            var passClock = pass == 1 ? watch : System.Diagnostics.Stopwatch.StartNew();
            var cpu = Environment.CpuUsage.TotalTime;
            var jitMethods = System.Runtime.JitInfo.GetCompiledMethodCount();
            long bytes = 0, received = 0;
            var resumed = 0;
            await Parallel.ForEachAsync(entries,
                new ParallelOptions { MaxDegreeOfParallelism = options.MaxFilesInFlight },
                async (entry, ct) =>
                {
                    var request = new FileDownloadRequest(repo, entry.Revision, entry.Path, SafePath.Combine(dest, entry.Path))
                    {
                        Entry = entry,
                        Overwrite = true,
                    };
                    var result = await session.DownloadAsync(request, null, ct).ConfigureAwait(false);
                    Interlocked.Add(ref bytes, result.Size);
                    Interlocked.Add(ref received, result.BytesReceived);
                    if (result.Resumed) Interlocked.Increment(ref resumed);
                }).ConfigureAwait(false);
            var passFields = repeat == 1 ? "" : string.Create(CultureInfo.InvariantCulture,
                $",\"pass\":{pass},\"cpu_seconds\":{(Environment.CpuUsage.TotalTime - cpu).TotalSeconds:F3},\"jit_methods\":{System.Runtime.JitInfo.GetCompiledMethodCount() - jitMethods}");
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"{{\"files\":{entries.Count},\"bytes\":{bytes},\"received\":{received},\"resumed\":{resumed},\"seconds\":{passClock.Elapsed.TotalSeconds:F3}{passFields}}}"));
        }
        sampler?.Report();
        jitReport?.Report();
        return 0;
    }
}

internal sealed class MemorySampler : IDisposable
{
    private readonly XorbRegistry _registry;
    private readonly Thread _thread;
    private volatile bool _stop;
    private long _maxRss;
    private string _atMax = "";
    // Exceptions thrown (and mostly caught) anywhere in the process, by type: each costs tens of microseconds, which
    // shows per file when thousands of small files are downloaded.
    private readonly System.Collections.Concurrent.ConcurrentDictionary<string, int> _exceptions = new();

    public MemorySampler(XorbRegistry registry)
    {
        _registry = registry;
        AppDomain.CurrentDomain.FirstChanceException += (_, e) => _exceptions.AddOrUpdate(e.Exception.GetType().Name, 1, (_, n) => n + 1);
        _thread = new Thread(Loop) { IsBackground = true };
        _thread.Start();
    }

    private static long Rss()
    {
        foreach (var line in File.ReadLines("/proc/self/status"))
            if (line.StartsWith("VmRSS:", StringComparison.Ordinal))
                return long.Parse(line.Split(' ', StringSplitOptions.RemoveEmptyEntries)[1], CultureInfo.InvariantCulture) * 1024;
        return 0;
    }

    private string Snapshot()
    {
        var info = GC.GetGCMemoryInfo(GCKind.Any);
        var p = _registry.Buffers;
        return string.Create(CultureInfo.InvariantCulture,
            $"rss={Rss() >> 20} totalMem={GC.GetTotalMemory(false) >> 20} committed={info.TotalCommittedBytes >> 20} heap={info.HeapSizeBytes >> 20} frag={info.FragmentedBytes >> 20} " +
            $"gen0={info.GenerationInfo[0].SizeAfterBytes >> 20} gen1={info.GenerationInfo[1].SizeAfterBytes >> 20} gen2={info.GenerationInfo[2].SizeAfterBytes >> 20} loh={info.GenerationInfo[3].SizeAfterBytes >> 20} poh={info.GenerationInfo[4].SizeAfterBytes >> 20} " +
            $"gcs={GC.CollectionCount(0)}/{GC.CollectionCount(1)}/{GC.CollectionCount(2)} reserved={p.Reserved >> 20} inUse={p.InUse >> 20} touched={p.Touched >> 20} held={_registry.Permits.Held >> 20} " +
            $"ownArrays={p.OwnArrays} ownMiB={p.OwnArrayBytes >> 20} allocatedTotalMiB={GC.GetTotalAllocatedBytes() >> 20}");
    }

    private void Loop()
    {
        while (!_stop)
        {
            var rss = Rss();
            if (rss > _maxRss)
            {
                _maxRss = rss;
                _atMax = Snapshot();
            }
            Thread.Sleep(5);
        }
    }

    public void Report()
    {
        Console.Error.WriteLine("memory at peak: " + _atMax);
        Console.Error.WriteLine("memory at end:  " + Snapshot());
        Console.Error.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"jit: {System.Runtime.JitInfo.GetCompiledMethodCount()} methods, {System.Runtime.JitInfo.GetCompilationTime().TotalMilliseconds:F0} ms; cpu {Environment.CpuUsage.UserTime.TotalSeconds:F2} user {Environment.CpuUsage.PrivilegedTime.TotalSeconds:F2} sys"));
        Console.Error.WriteLine("exceptions: " + (_exceptions.IsEmpty ? "none"
            : string.Join(", ", _exceptions.OrderByDescending(p => p.Value).Select(p => $"{p.Key} x{p.Value}"))));
    }

    public void Dispose() => _stop = true;
}

/// <summary>--jit-report: which methods the JIT spent its time on (runtime events, in process), the 25 slowest.</summary>
internal sealed class JitTimeListener : System.Diagnostics.Tracing.EventListener
{
    private readonly System.Collections.Concurrent.ConcurrentDictionary<long, (string Name, DateTime Start)> _started = new();
    private readonly System.Collections.Concurrent.ConcurrentBag<(string Name, string Tier, double Ms, double At)> _done = new();
    private readonly DateTime _origin = DateTime.UtcNow;

    /// <summary>The code's tier, from MethodLoadVerbose's MethodFlags (bits 7-9). A hot method is compiled again as a
    /// process runs on: Tier0 (or its ReadyToRun code), then instrumented (dynamic PGO), then Tier1.</summary>
    private static string Tier(uint methodFlags) => ((methodFlags >> 7) & 7) switch
    {
        1 => "MinOpts",
        2 => "FullOpts",
        3 => "Tier0",
        4 => "Tier1",
        5 => "Tier1 OSR",
        6 => "Tier0 instrumented",
        7 => "Tier1 instrumented",
        _ => "unknown",
    };

    protected override void OnEventSourceCreated(System.Diagnostics.Tracing.EventSource source)
    {
        if (source.Name == "Microsoft-Windows-DotNETRuntime")
            EnableEvents(source, System.Diagnostics.Tracing.EventLevel.Verbose, (System.Diagnostics.Tracing.EventKeywords)0x10);
    }

    protected override void OnEventWritten(System.Diagnostics.Tracing.EventWrittenEventArgs e)
    {
        if (e.Payload is null) return;
        if (e.EventName == "MethodJittingStarted_V1")
        {
            var name = $"{e.Payload[4]}.{e.Payload[5]}";
            _started[(long)(ulong)e.Payload[0]!] = (name, e.TimeStamp);
        }
        else if (e.EventName is "MethodLoadVerbose_V1" or "MethodLoadVerbose_V2")
        {
            if (_started.TryRemove((long)(ulong)e.Payload[0]!, out var start))
                _done.Add(($"{start.Name} [{e.Payload[7]}]", Tier(Convert.ToUInt32(e.Payload[5], CultureInfo.InvariantCulture)),
                           (e.TimeStamp - start.Start).TotalMilliseconds, (e.TimeStamp.ToUniversalTime() - _origin).TotalSeconds));
        }
    }

    public void Report()
    {
        var all = _done.ToArray();
        Console.Error.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"jit events: {all.Length} compilations of {all.Select(d => d.Name).Distinct().Count()} methods, {all.Sum(d => d.Ms):F0} ms (start to load, not CPU)"));
        // By tier (a long run pays for its hot methods' instrumented and Tier1 versions), by namespace (the async
        // plumbing of generic instantiations that no ReadyToRun image holds shows as System.Runtime.CompilerServices),
        // then the costliest compilations.
        foreach (var t in all.GroupBy(d => d.Tier).OrderByDescending(g => g.Sum(d => d.Ms)))
            Console.Error.WriteLine(string.Create(CultureInfo.InvariantCulture, $"  {t.Sum(d => d.Ms),8:F1} ms {t.Count(),5}  {t.Key}"));
        var byNamespace = all.GroupBy(d => string.Join('.', d.Name.Split('`', '[', '+')[0].Split('.').Take(3)));
        foreach (var g in byNamespace.OrderByDescending(g => g.Sum(d => d.Ms)).Take(25))
            Console.Error.WriteLine(string.Create(CultureInfo.InvariantCulture, $"  {g.Sum(d => d.Ms),8:F1} ms {g.Count(),5}  {g.Key}"));
        // When: compilations per half second by tier. Tier-up waits until no method has been compiled at Tier0 for a
        // while (the runtime's call-counting delay), so a late Tier0 trickle postpones the whole Tier1 wave.
        foreach (var slot in all.GroupBy(d => (int)(d.At * 2)).OrderBy(g => g.Key))
            Console.Error.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"  at {slot.Key / 2.0,5:F1} s: {string.Join(", ", slot.GroupBy(d => d.Tier).OrderBy(t => t.Key).Select(t => $"{t.Key} {t.Count()}"))}"));
        foreach (var (name, tier, ms, _) in all.OrderByDescending(d => d.Ms).Take(25))
            Console.Error.WriteLine(string.Create(CultureInfo.InvariantCulture, $"  {ms,8:F1} ms  {name} ({tier})"));
    }
}
