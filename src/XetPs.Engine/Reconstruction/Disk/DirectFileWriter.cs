#if NET8_0_OR_GREATER
using System;
using System.Collections.Generic;
using System.IO;
using System.Runtime.InteropServices;
using System.Threading;
using System.Threading.Tasks;
using Microsoft.Win32.SafeHandles;

namespace XetPs.Reconstruction;

/// <summary>
/// Writes one file's bytes, in file order, past the page cache (Linux <c>O_DIRECT</c>): bytes are copied into one of
/// the file's aligned stages (rented from the session's <see cref="DirectWriteStages"/>), and full stages are written
/// by the device while the next one fills.
/// Why: the kernel's copy into the page cache with its page faults is the engine's largest cost on large files; on a
/// VM every fault of a new page-cache page exits to the hypervisor, and a file larger than the free memory makes the
/// kernel reclaim as it writes; direct writes cut the system time of a 4 GiB file by more than half and did not slow
/// it. The copy into a stage is the same memory traffic as the
/// kernel's copy, now in user time; see <see cref="XetSessionOptions.DirectWriteMinimum"/> for why smaller files stay
/// buffered.
/// Invariants: every device write is whole aligned blocks at an aligned offset from aligned memory;
/// <see cref="Durable"/> &lt;= <see cref="Position"/>, and every byte below <see cref="Durable"/> is in the file; the
/// stage being filled is never one being written; the stages go back to the session only when no write reads them.
/// The last partial block is written padded, then the file is cut to its length.
/// Not thread-safe: owned by one file's writer.
/// </summary>
internal sealed class DirectFileWriter : IDisposable
{
    /// <summary>
    /// Default bytes per device write (<see cref="XetSessionOptions.DirectWriteStageSize"/>). Writes of 8 MiB ran faster
    /// than 4 MiB one at a time, but with two or more in flight stage sizes of 4 and 8 MiB and 2-4 stages were within the
    /// noise of each other; the stages are memory outside the buffer, so the smaller size keeps the largest downloads
    /// within their memory target.
    /// </summary>
    internal const int StageSize = 4 << 20;

    private readonly string _path;
    private readonly SafeFileHandle _direct;
    private readonly SafeFileHandle _buffered;
    private readonly int _alignment;
    private readonly int _stageSize;
    private readonly DirectWriteStages _pool;
    private readonly Memory<byte>[] _stages; // rented from _pool, returned on Dispose
    private int _current;
    private int _filled;           // bytes in the current stage
    private long _stageOffset;     // file offset of the current stage's first byte (aligned)
    // Writes in flight, oldest first, with the file offset each ends at; the stage of the oldest is the next to fill.
    private readonly Queue<(Task Write, long End)> _inFlight = new();
    private bool _disposed;

    private DirectFileWriter(string path, SafeFileHandle direct, SafeFileHandle buffered, int alignment, long position,
        DirectWriteStages pool, Memory<byte>[] stages)
    {
        _path = path;
        _pool = pool;
        _stages = stages;
        _stageSize = pool.StageSize;
        _direct = direct;
        _buffered = buffered;
        _alignment = alignment;
        _stageOffset = position - position % alignment;
        _filled = (int)(position - _stageOffset);
        Durable = _stageOffset;
        // A resumed file continues mid-block: the block's kept head is read back so the first write is whole blocks.
        if (_filled > 0) PartialFile.ReadExactly(buffered, _stages[0].Span.Slice(0, _filled), _stageOffset);
    }

    /// <summary>Bytes accepted so far (file offset of the next byte).</summary>
    public long Position => _stageOffset + _filled;

    /// <summary>Bytes known to be in the file: written by the device, every one below this offset.</summary>
    public long Durable { get; private set; }

    /// <summary>The device alignment in use (offsets, lengths and memory).</summary>
    public int Alignment => _alignment;

    /// <summary>
    /// Opens <paramref name="path"/> (which must exist) for direct writes continuing at <paramref name="position"/>, or
    /// returns null where direct I/O is not available: not Linux, a CPU whose O_DIRECT value is not known here, or a
    /// file system that does not report its direct-I/O alignment (statx STATX_DIOALIGN, Linux 6.1+; tmpfs and many
    /// FUSE file systems report none). <paramref name="buffered"/> is the file's ordinary handle: it reads a resumed
    /// block back and sets the final length. Also null when <paramref name="stages"/> has no free set (other files
    /// write directly already).
    /// </summary>
    public static DirectFileWriter? TryOpen(string path, SafeFileHandle buffered, long position, DirectWriteStages stages)
    {
        if (!OperatingSystem.IsLinux()) return null;
        var oDirect = RuntimeInformation.ProcessArchitecture switch
        {
            Architecture.X64 or Architecture.X86 => 0x4000,       // 040000
            Architecture.Arm64 or Architecture.Arm => 0x10000,    // 0200000
            _ => 0,
        };
        if (oDirect == 0) return null;
        var alignment = DirectIoAlignment(path);
        if (alignment == 0 || DirectWriteStages.Alignment % alignment != 0) return null;
        if (stages.TryRent() is not { } set) return null;

        SafeFileHandle direct;
        try
        {
            // Through the buffered handle, not the name: the same file, even if the name was made a link meanwhile
            // (WorkFolder proved the buffered handle to be the name's own file). No /proc: no direct writes.
            var fd = Open("/proc/self/fd/" + buffered.DangerousGetHandle().ToInt64().ToString(System.Globalization.CultureInfo.InvariantCulture),
                OWriteOnly | OCloseOnExec | oDirect);
            if (fd < 0)
            {
                stages.Return(set);
                return null; // EINVAL and friends: this file system refuses O_DIRECT after all
            }
            direct = new SafeFileHandle((IntPtr)fd, ownsHandle: true);
        }
        catch (Exception e) when (e is DllNotFoundException or EntryPointNotFoundException)
        {
            stages.Return(set);
            return null;
        }
        try
        {
            return new DirectFileWriter(path, direct, buffered, alignment, position, stages, set);
        }
        catch
        {
            direct.Dispose();
            stages.Return(set);
            throw;
        }
    }

    /// <summary>Appends <paramref name="data"/> at <see cref="Position"/>; a full stage goes to the device.</summary>
    public async ValueTask WriteAsync(ReadOnlyMemory<byte> data, CancellationToken cancellationToken)
    {
        while (data.Length > 0)
        {
            var n = Math.Min(_stageSize - _filled, data.Length);
            data.Span.Slice(0, n).CopyTo(_stages[_current].Span.Slice(_filled));
            _filled += n;
            data = data.Slice(n);
            if (_filled == _stageSize) await SubmitStageAsync(_stageSize, cancellationToken).ConfigureAwait(false);
        }
    }

    /// <summary>
    /// Writes what is staged (the last block padded with zeros) and sets the file's length to
    /// <paramref name="length"/>, which must be <see cref="Position"/>.
    /// </summary>
    public async Task FinishAsync(long length, CancellationToken cancellationToken)
    {
        if (length != Position) throw new InvalidOperationException($"Finishing '{_path}' at {length} but {Position} bytes were staged.");
        if (_filled > 0)
        {
            var padded = (_filled + _alignment - 1) / _alignment * _alignment;
            _stages[_current].Span.Slice(_filled, padded - _filled).Clear();
            var filled = _filled;
            await SubmitStageAsync(padded, cancellationToken).ConfigureAwait(false);
            _stageOffset -= padded - filled; // the padding is not file content
        }
        while (_inFlight.Count > 0) await WaitOldestAsync().ConfigureAwait(false);
        RandomAccess.SetLength(_buffered, length);
        Durable = length;
    }

    private async ValueTask SubmitStageAsync(int length, CancellationToken cancellationToken)
    {
        var offset = _stageOffset;
        _inFlight.Enqueue((WriteStageAsync(_stages[_current].Slice(0, length), offset, cancellationToken), offset + length));
        _current = (_current + 1) % _stages.Length;
        _stageOffset += length;
        _filled = 0;
        // The next stage must be on the device before it is refilled.
        if (_inFlight.Count == _stages.Length) await WaitOldestAsync().ConfigureAwait(false);
    }

    private async Task WaitOldestAsync()
    {
        var (write, end) = _inFlight.Peek();
        await write.ConfigureAwait(false);
        _inFlight.Dequeue();
        Durable = end;
    }

    private async Task WriteStageAsync(ReadOnlyMemory<byte> stage, long offset, CancellationToken cancellationToken)
    {
        try
        {
            await RandomAccess.WriteAsync(_direct, stage, offset, cancellationToken).ConfigureAwait(false);
        }
        catch (IOException e)
        {
            throw new IOException($"Writing {stage.Length} bytes at offset {offset} of '{_path}' (direct I/O) failed: {e.Message}", e);
        }
    }

    /// <summary>Waits for the write in flight (its error is not this call's to report) and closes the direct handle.</summary>
    public void Dispose()
    {
        if (_disposed) return;
        _disposed = true;
        var failed = false;
        foreach (var (write, end) in _inFlight)
        {
            try
            {
                write.GetAwaiter().GetResult();
                if (!failed) Durable = end;
            }
            catch (Exception)
            {
                // The writer already failed with it (or was cancelled); Durable stays below the first failed write.
                failed = true;
            }
        }
        _inFlight.Clear();
        _direct.Dispose();
        _pool.Return(_stages); // no write reads from the stages any more
    }

    /// <summary>
    /// The alignment direct I/O needs on <paramref name="path"/>'s file system (at least 4096), or 0 when it does not
    /// report one. statx's struct: stx_mask at 0, stx_dio_mem_align at 152, stx_dio_offset_align at 156.
    /// </summary>
    internal static unsafe int DirectIoAlignment(string path)
    {
        var buffer = stackalloc byte[256];
        new Span<byte>(buffer, 256).Clear();
        try
        {
            if (Statx(AtFdCwd, path, 0, StatxDioAlign, buffer) != 0) return 0;
        }
        catch (Exception e) when (e is DllNotFoundException or EntryPointNotFoundException)
        {
            return 0;
        }
        var mask = *(uint*)buffer;
        if ((mask & StatxDioAlign) == 0) return 0;
        var memory = *(uint*)(buffer + 152);
        var offset = *(uint*)(buffer + 156);
        if (memory == 0 || offset == 0) return 0; // the file system does not do direct I/O
        var alignment = Math.Max(4096u, Math.Max(memory, offset));
        if ((alignment & (alignment - 1)) != 0) return 0;
        return (int)alignment;
    }

    private const int AtFdCwd = -100;
    private const uint StatxDioAlign = 0x2000;
    private const int OWriteOnly = 1;
    private const int OCloseOnExec = 0x80000;

    [DllImport("libc", EntryPoint = "statx", SetLastError = true)]
    private static extern unsafe int Statx(int dirFd, [MarshalAs(UnmanagedType.LPUTF8Str)] string path, int flags, uint mask, byte* buffer);

    [DllImport("libc", EntryPoint = "open", SetLastError = true)]
    private static extern int Open([MarshalAs(UnmanagedType.LPUTF8Str)] string path, int flags);
}
#endif
