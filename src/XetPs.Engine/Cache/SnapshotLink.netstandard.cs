using System;
using System.IO;
using System.Runtime.InteropServices;
using System.Text;
using Microsoft.Win32.SafeHandles;

namespace XetPs.Cache;

/// <summary>.NET Standard (Windows PowerShell 5.1, and any other host of this build): the OS calls themselves.</summary>
internal static partial class SnapshotLink
{
    private static readonly bool OnWindows = RuntimeInformation.IsOSPlatform(OSPlatform.Windows);

    private static bool TryCreateSymlink(string link, string target)
    {
        try
        {
            // SYMBOLIC_LINK_FLAG_ALLOW_UNPRIVILEGED_CREATE (2): works in Developer Mode without admin rights.
            return OnWindows ? CreateSymbolicLinkW(link, target, 2) : SymlinkNative(target, link) == 0;
        }
        catch (Exception e) when (e is DllNotFoundException or EntryPointNotFoundException)
        {
            return false;
        }
    }

    /// <summary>The file <paramref name="path"/> finally stands for (itself when it is no link), or null for a broken link.</summary>
    public static string? FinalTarget(string path)
    {
        if (!File.Exists(path)) return null; // File.Exists follows links: false for a broken one
        if (!IsLink(path)) return Path.GetFullPath(path);
        if (!OnWindows)
        {
            var resolved = RealPath(path, IntPtr.Zero);
            if (resolved == IntPtr.Zero) return null;
            try
            {
                return Marshal.PtrToStringAnsi(resolved);
            }
            finally
            {
                Free(resolved);
            }
        }
        using var handle = CreateFileW(path, 0, 7, IntPtr.Zero, 3, 0x02000000, IntPtr.Zero); // any sharing, open existing, backup semantics
        if (handle.IsInvalid) return null;
        var buffer = new StringBuilder(1024);
        var length = GetFinalPathNameByHandleW(handle, buffer, buffer.Capacity, 0);
        if (length == 0 || length >= buffer.Capacity) return null;
        var final = buffer.ToString();
        return final.StartsWith(@"\\?\UNC\", StringComparison.Ordinal) ? @"\\" + final.Substring(8)
            : final.StartsWith(@"\\?\", StringComparison.Ordinal) ? final.Substring(4) : final;
    }

    [DllImport("kernel32.dll", CharSet = CharSet.Unicode, SetLastError = true)]
    [return: MarshalAs(UnmanagedType.I1)]
    private static extern bool CreateSymbolicLinkW(string link, string target, int flags);

    [DllImport("kernel32.dll", CharSet = CharSet.Unicode, SetLastError = true)]
    private static extern SafeFileHandle CreateFileW(string path, uint access, uint share, IntPtr security, uint disposition, uint flags, IntPtr template);

    [DllImport("kernel32.dll", CharSet = CharSet.Unicode, SetLastError = true)]
    private static extern int GetFinalPathNameByHandleW(SafeFileHandle file, StringBuilder path, int length, int flags);

    [DllImport("libc", EntryPoint = "symlink", SetLastError = true)]
    private static extern int SymlinkNative(string target, string link);

    [DllImport("libc", EntryPoint = "realpath", SetLastError = true)]
    private static extern IntPtr RealPath(string path, IntPtr resolved);

    [DllImport("libc", EntryPoint = "free")]
    private static extern void Free(IntPtr pointer);
}
