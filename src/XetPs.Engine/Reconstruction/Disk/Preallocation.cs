#if NET8_0_OR_GREATER
using System;
using System.Runtime.InteropServices;
using Microsoft.Win32.SafeHandles;

namespace XetPs.Reconstruction;

/// <summary>
/// Gives a partial file its blocks before the bytes arrive (Linux fallocate, mode 0: the file's length becomes its
/// final size). Why: on ext4 every buffered write into a hole reserves and maps its blocks one page at a time
/// (delayed allocation); into blocks already allocated it only copies, which cut the system time of large downloads by
/// about a third. The length says
/// nothing about progress: the resume journal does (<see cref="ResumeJournal"/>), and a resumed file is cut to its
/// verified prefix before it is extended again. Advice only: where the file system or OS cannot, or space runs out
/// (the disk-space check has already spoken), nothing changes and the writes find out for themselves.
/// XETPS_NO_PREALLOCATION=1 turns it off (for A/B measurements).
/// </summary>
internal static class Preallocation
{
    /// <summary>True when the blocks of [<paramref name="offset"/>, <paramref name="offset"/> + <paramref name="length"/>) were allocated.</summary>
    public static bool TryAllocate(SafeFileHandle file, long offset, long length)
    {
        if (!OperatingSystem.IsLinux() || length <= 0 || Environment.GetEnvironmentVariable("XETPS_NO_PREALLOCATION") is not null)
            return false;
        var added = false;
        try
        {
            file.DangerousAddRef(ref added);
            return Fallocate((int)file.DangerousGetHandle(), 0, offset, length) == 0;
        }
        catch (Exception e) when (e is DllNotFoundException or EntryPointNotFoundException)
        {
            return false;
        }
        finally
        {
            if (added) file.DangerousRelease();
        }
    }

    [DllImport("libc", EntryPoint = "fallocate", SetLastError = true)]
    private static extern int Fallocate(int fd, int mode, long offset, long length);
}
#endif
