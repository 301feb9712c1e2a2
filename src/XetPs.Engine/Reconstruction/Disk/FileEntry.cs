using System;
using System.IO;
using System.Runtime.InteropServices;
using System.Text;
using System.Threading;
using Microsoft.Win32.SafeHandles;

namespace XetPs.Reconstruction;

/// <summary>What a name in the file system is, looked at without following it.</summary>
internal enum EntryKind
{
    Missing,
    File,
    Folder,
    /// <summary>A symbolic link (dangling or not); on Windows also a junction or another name-surrogate reparse point.</summary>
    Link,
    /// <summary>Neither a regular file, a folder nor a link: a FIFO, a socket, a device.</summary>
    Special,
}

/// <summary>
/// A name in the file system as it is, not as it points (lstat), and, where the platform tells, which file it is
/// (device and inode) and how many names that file has. Linux: statx, whose struct has one layout on every
/// architecture; the same call reads the file a handle has open, so a handle can be proven to be a name's own entry.
/// Windows: the attributes, and for a reparse point its tag: only a name surrogate (symbolic link, junction, mount
/// point, WSL link) counts as a link, so OneDrive and other cloud placeholders or deduplicated files are the files and
/// folders they look like. Elsewhere (macOS, or a Linux whose C library or sandbox has no statx): the attributes, where
/// a symbolic link shows as a reparse point.
/// </summary>
internal readonly struct FileEntry
{
    private FileEntry(EntryKind kind, bool hasIdentity = false, ulong device = 0, ulong inode = 0, uint links = 0)
    {
        Kind = kind;
        HasIdentity = hasIdentity;
        Device = device;
        Inode = inode;
        Links = links;
    }

    public EntryKind Kind { get; }

    /// <summary>True when <see cref="Device"/>, <see cref="Inode"/> and <see cref="Links"/> are known (Linux).</summary>
    public bool HasIdentity { get; }

    public ulong Device { get; }

    public ulong Inode { get; }

    /// <summary>How many names (hard links) the file has.</summary>
    public uint Links { get; }

    /// <summary>True when both are known to be the same file (false when either identity is unknown).</summary>
    public bool IsSameFile(FileEntry other) => HasIdentity && other.HasIdentity && Device == other.Device && Inode == other.Inode;

    /// <summary>The entry named <paramref name="path"/> itself: a link is reported as a link, never as its target.</summary>
    public static FileEntry Inspect(string path)
    {
        if (IsLinux && TryStatx(AtFdCwd, path, AtSymlinkNoFollow, out var entry)) return entry;
        return FromAttributes(path);
    }

    /// <summary>The file <paramref name="handle"/> has open: its kind and, on Linux, its identity; elsewhere a file with no identity.</summary>
    public static FileEntry Of(SafeFileHandle handle)
    {
        if (IsLinux)
        {
            var added = false;
            try
            {
                handle.DangerousAddRef(ref added);
                if (TryStatx(handle.DangerousGetHandle().ToInt32(), "", AtEmptyPath, out var entry)) return entry;
            }
            finally
            {
                if (added) handle.DangerousRelease();
            }
        }
        return new FileEntry(EntryKind.File);
    }

    private static readonly bool IsLinux = RuntimeInformation.IsOSPlatform(OSPlatform.Linux);
    private static readonly bool IsWindows = RuntimeInformation.IsOSPlatform(OSPlatform.Windows);

    private static FileEntry FromAttributes(string path)
    {
        FileAttributes attributes;
        try
        {
            attributes = File.GetAttributes(path); // of the name itself: a link's own attributes, not its target's
        }
        catch (Exception e) when (e is FileNotFoundException or DirectoryNotFoundException)
        {
            return new FileEntry(EntryKind.Missing);
        }
        if ((attributes & FileAttributes.ReparsePoint) != 0 && (!IsWindows || IsNameSurrogate(path))) return new FileEntry(EntryKind.Link);
        return new FileEntry((attributes & FileAttributes.Directory) != 0 ? EntryKind.Folder : EntryKind.File);
    }

    // --- Linux: statx (glibc 2.28+). Offsets of struct statx: stx_mask 0, stx_nlink 16, stx_mode 28, stx_ino 32,
    // stx_dev_major 136, stx_dev_minor 140; 256 bytes in all.

    private const int AtFdCwd = -100, AtSymlinkNoFollow = 0x100, AtEmptyPath = 0x1000;
    private const uint StatxType = 0x1, StatxNlink = 0x4, StatxIno = 0x100;
    private const int ENoEnt = 2, ENotDir = 20;
    private static int _statxMissing; // 1 once the C library turned out to have no statx

    /// <summary>False when statx cannot tell (not there, refused by a sandbox, or an error other than "no such entry").</summary>
    private static unsafe bool TryStatx(int directory, string path, int flags, out FileEntry entry)
    {
        entry = default;
        if (Volatile.Read(ref _statxMissing) != 0) return false;
        var name = Encoding.UTF8.GetBytes(path + "\0");
        var buffer = stackalloc byte[256];
        new Span<byte>(buffer, 256).Clear();
        int result;
        try
        {
            fixed (byte* p = name) result = Statx(directory, p, flags, StatxType | StatxNlink | StatxIno, buffer);
        }
        catch (Exception e) when (e is DllNotFoundException or EntryPointNotFoundException)
        {
            Volatile.Write(ref _statxMissing, 1);
            return false;
        }
        if (result != 0)
        {
            var errno = Marshal.GetLastWin32Error();
            if (errno is ENoEnt or ENotDir)
            {
                entry = new FileEntry(EntryKind.Missing);
                return true;
            }
            return false;
        }
        var mask = *(uint*)buffer;
        if ((mask & StatxType) == 0) return false;
        var kind = (*(ushort*)(buffer + 28) & 0xF000) switch
        {
            0x8000 => EntryKind.File,
            0x4000 => EntryKind.Folder,
            0xA000 => EntryKind.Link,
            _ => EntryKind.Special,
        };
        var known = (mask & (StatxIno | StatxNlink)) == (StatxIno | StatxNlink);
        var device = ((ulong)*(uint*)(buffer + 136) << 32) | *(uint*)(buffer + 140);
        entry = new FileEntry(kind, known, device, *(ulong*)(buffer + 32), *(uint*)(buffer + 16));
        return true;
    }

    [DllImport("libc", EntryPoint = "statx", SetLastError = true)]
    private static extern unsafe int Statx(int directory, byte* path, int flags, uint mask, byte* buffer);

    // --- Windows: the reparse tag of a name (WIN32_FIND_DATAW.dwReserved0 when FILE_ATTRIBUTE_REPARSE_POINT is set).

    private const uint NameSurrogateBit = 0x20000000;

    /// <summary>True when the reparse point at <paramref name="path"/> names another entry; also when its tag cannot be read.</summary>
    private static bool IsNameSurrogate(string path)
    {
        var full = Path.GetFullPath(path);
        // The \\?\ form lifts MAX_PATH for this call, as .NET does for its own.
        if (full.Length >= 260 && !full.StartsWith(@"\\?\", StringComparison.Ordinal))
            full = full.StartsWith(@"\\", StringComparison.Ordinal) ? @"\\?\UNC\" + full.Substring(2) : @"\\?\" + full;
        try
        {
            var handle = FindFirstFile(full, out var data);
            if (handle == new IntPtr(-1)) return true;
            FindClose(handle);
            return (data.Reserved0 & NameSurrogateBit) != 0;
        }
        catch (Exception e) when (e is DllNotFoundException or EntryPointNotFoundException)
        {
            return true;
        }
    }

    [StructLayout(LayoutKind.Sequential, CharSet = CharSet.Unicode)]
    private struct Win32FindData
    {
        public uint FileAttributes;
        public uint CreationTimeLow, CreationTimeHigh, LastAccessTimeLow, LastAccessTimeHigh, LastWriteTimeLow, LastWriteTimeHigh;
        public uint FileSizeHigh, FileSizeLow;
        public uint Reserved0, Reserved1;
        [MarshalAs(UnmanagedType.ByValTStr, SizeConst = 260)] public string FileName;
        [MarshalAs(UnmanagedType.ByValTStr, SizeConst = 14)] public string AlternateFileName;
    }

    [DllImport("kernel32.dll", EntryPoint = "FindFirstFileW", CharSet = CharSet.Unicode, SetLastError = true)]
    private static extern IntPtr FindFirstFile(string fileName, out Win32FindData data);

    [DllImport("kernel32.dll", SetLastError = true)]
    [return: MarshalAs(UnmanagedType.Bool)]
    private static extern bool FindClose(IntPtr handle);
}
