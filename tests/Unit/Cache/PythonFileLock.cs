using System;
using System.IO;
using System.Runtime.InteropServices;

namespace XetPs.Tests.Cache;

/// <summary>
/// A lock taken on a cache lock file with the very calls Python's <c>filelock</c> makes for huggingface_hub (Python is
/// not installable here, so its calls are made directly, from filelock's <c>_unix.py</c> and <c>_windows.py</c>): on
/// Unix <c>os.open(path, O_RDWR | O_CREAT)</c> then <c>fcntl.flock(fd, LOCK_EX | LOCK_NB)</c>; on Windows the file
/// opened with read and write sharing and one byte at offset 0 locked exclusively. flock locks belong to the open file
/// description, so this process's own open conflicts with a lock this process holds through another open, exactly as
/// another process's would.
/// </summary>
internal sealed class PythonFileLock : IDisposable
{
    private readonly int _fd = -1;
    private readonly FileStream? _windows;

    private PythonFileLock(int fd, FileStream? windows)
    {
        _fd = fd;
        _windows = windows;
    }

    /// <summary>The lock, or null when someone else holds it (filelock's "contention": EWOULDBLOCK, or a locked byte).</summary>
    public static PythonFileLock? TryAcquire(string path)
    {
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        if (RuntimeInformation.IsOSPlatform(OSPlatform.Windows))
        {
            var file = new FileStream(path, FileMode.OpenOrCreate, FileAccess.ReadWrite, FileShare.ReadWrite);
            try
            {
                file.Lock(0, 1);
                return new PythonFileLock(-1, file);
            }
            catch (IOException)
            {
                file.Dispose();
                return null;
            }
        }
        var fd = Open(path, OpenReadWrite | OpenCreate, Convert.ToInt32("664", 8));
        if (fd < 0) throw new IOException($"open({path}) failed: errno {Marshal.GetLastWin32Error()}");
        if (Flock(fd, LockExclusive | LockNonBlocking) == 0) return new PythonFileLock(fd, null);
        var errno = Marshal.GetLastWin32Error();
        Close(fd);
        if (errno is 11 or 35) return null; // EWOULDBLOCK (Linux, macOS)
        throw new IOException($"flock({path}) failed: errno {errno}");
    }

    public void Dispose()
    {
        if (_windows is not null && OperatingSystem.IsWindows())
        {
            _windows.Unlock(0, 1);
            _windows.Dispose();
            return;
        }
        Flock(_fd, LockUnlock);
        Close(_fd);
    }

    private static int OpenReadWrite => 2;
    private static int OpenCreate => RuntimeInformation.IsOSPlatform(OSPlatform.Linux) ? 0x40 : 0x200;
    private const int LockExclusive = 2, LockNonBlocking = 4, LockUnlock = 8;

    [DllImport("libc", EntryPoint = "open", SetLastError = true)]
    private static extern int Open(string path, int flags, int mode);

    [DllImport("libc", EntryPoint = "flock", SetLastError = true)]
    private static extern int Flock(int fd, int operation);

    [DllImport("libc", EntryPoint = "close", SetLastError = true)]
    private static extern int Close(int fd);
}
