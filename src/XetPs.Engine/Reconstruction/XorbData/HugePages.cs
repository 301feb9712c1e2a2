#if NET8_0_OR_GREATER
using System;
using System.Runtime.InteropServices;

namespace XetPs.Reconstruction;

/// <summary>
/// Asks Linux to back a long-lived pinned array with transparent huge pages (madvise MADV_HUGEPAGE), so the first
/// write into it faults 2 MiB at a time instead of 4 KiB. Why: on virtual machines a page fault is an exit to the
/// hypervisor, and filling a large buffer 4 KiB at a time took most of the engine's system time (and user time too, from
/// TLB misses in hashing). Advice only: where the kernel has huge pages off, or this is not Linux,
/// nothing changes. XETPS_NO_HUGEPAGES=1 turns it off (for A/B measurements).
/// </summary>
internal static class HugePages
{
    private const int MadvHugePage = 14;
    private const long HugePageSize = 2L << 20;

    /// <summary>True when the kernel took the advice for at least one huge page of <paramref name="array"/>.</summary>
    public static unsafe bool Advise(byte[] array)
    {
        if (!OperatingSystem.IsLinux() || array.Length < 2 * HugePageSize) return false;
        fixed (byte* start = array)
        {
            // Only whole huge pages inside the array: advice on a neighbour's memory is not ours to give.
            var first = ((long)start + HugePageSize - 1) & ~(HugePageSize - 1);
            var end = ((long)start + array.Length) & ~(HugePageSize - 1);
            if (end <= first) return false;
            try
            {
                return Madvise((nint)first, (nuint)(end - first), MadvHugePage) == 0;
            }
            catch (Exception e) when (e is DllNotFoundException or EntryPointNotFoundException)
            {
                return false; // no libc madvise: the advice is an optimisation only
            }
        }
    }

    [DllImport("libc", EntryPoint = "madvise")]
    private static extern int Madvise(nint address, nuint length, int advice);
}
#endif
