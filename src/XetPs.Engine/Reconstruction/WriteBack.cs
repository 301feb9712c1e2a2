#if NET8_0_OR_GREATER
using System;
using System.Runtime.InteropServices;
using Microsoft.Win32.SafeHandles;

namespace XetPs.Reconstruction;

/// <summary>
/// Starts the write-back of a file's dirty pages while the download goes on (Linux sync_file_range with
/// SYNC_FILE_RANGE_WRITE: it queues the pages for the device and returns; it waits for nothing already queued).
/// Why: a completed file is fsynced before it is moved into place (<see cref="SequentialWriter"/>), and the kernel
/// starts write-back on its own only past dirty_background_ratio (2.4 GB on a 24 GiB machine), so without this a
/// 2 GiB download would leave all of it to that fsync: 1.2 s at its end on this VM. Kicked every
/// <see cref="Stride"/> written, the device keeps pace with the network and the fsync waits for the last stride only.
/// Advice only: elsewhere, or where the call fails, the fsync does all the work as before.
/// </summary>
internal static class WriteBack
{
    /// <summary>Bytes written between two kicks.</summary>
    public const long Stride = 32L << 20;

    private const uint SyncFileRangeWrite = 2;
    private static bool _unavailable = !OperatingSystem.IsLinux() || Environment.GetEnvironmentVariable("XETPS_NO_WRITEBACK") is not null;

    /// <summary>Queues the dirty pages of [<paramref name="offset"/>, <paramref name="offset"/> + <paramref name="length"/>) for write-back.</summary>
    public static void Start(SafeFileHandle file, long offset, long length)
    {
        if (_unavailable || length <= 0) return;
        var added = false;
        try
        {
            file.DangerousAddRef(ref added);
            SyncFileRange((int)file.DangerousGetHandle(), offset, length, SyncFileRangeWrite);
        }
        catch (Exception e) when (e is DllNotFoundException or EntryPointNotFoundException)
        {
            _unavailable = true;
        }
        finally
        {
            if (added) file.DangerousRelease();
        }
    }

    [DllImport("libc", EntryPoint = "sync_file_range", SetLastError = true)]
    private static extern int SyncFileRange(int fd, long offset, long nbytes, uint flags);
}
#endif
