using System;
using System.Threading;
using System.Threading.Tasks;
using XetPs.Format;

namespace XetPs.Reconstruction;

/// <summary>
/// Compiles the hot loops of a download (the BLAKE3 chunk and parent kernels at every SIMD width this machine uses,
/// and the BG4 regroup) on a thread of its own, once per process, while a session's first requests are in flight.
/// </summary>
/// <remarks>
/// Those loops carry <c>AggressiveOptimization</c> (a tier-0 body is many times slower), which also keeps them out
/// of the ReadyToRun images: the JIT compiles them on first call, about 70 ms here for the BLAKE3 kernels, and the
/// first xorbs of every run used to wait for it (first decode and hash 37-60 ms against 5 ms later on). Compiled here,
/// that time overlaps the resolve, token and reconstruction requests instead. Calling the loops the way a download
/// does (rather than naming methods) compiles exactly the widths this machine dispatches to. Not on a pool thread:
/// the first requests' continuations need the few workers the pool starts with.
/// </remarks>
internal static class HotLoopWarmUp
{
    private static Task? _completion;

    /// <summary>The one warm-up of this process, started by the first call to <see cref="Start"/>; null before.</summary>
    internal static Task? Completion => Volatile.Read(ref _completion);

    /// <summary>Starts the warm-up unless it has started already; never blocks.</summary>
    internal static void Start()
    {
        if (Volatile.Read(ref _completion) is not null) return;
        var run = new Task(Run, TaskCreationOptions.DenyChildAttach | TaskCreationOptions.LongRunning);
        if (Interlocked.CompareExchange(ref _completion, run, null) is null)
            run.Start(TaskScheduler.Default);
    }

    private static void Run()
    {
        // 65 full BLAKE3 chunks and a partial one: the chunk kernel at the widest width, then parent levels of 66, 33,
        // 17, 9, 5 and 3 nodes, which take the 16-, 8- and 4-lane parent kernels and the scalar compression.
        var input = new byte[65 * 1024 + 100];
        XetHashing.ChunkHash(input);
        ByteGrouping4.Regroup(input.AsSpan(0, 4096), new byte[4096]);
    }
}
