using System;
using System.IO;
using System.Runtime.InteropServices;
using System.Threading;
using System.Threading.Tasks;
using Microsoft.Extensions.Logging;

namespace XetPs.Cache;

/// <summary>
/// The lock on one blob of the Hugging Face cache (<see cref="HubCache.LockPath"/>), taken the way Python's
/// <c>filelock</c> takes it for huggingface_hub, so that a Python process and XetPs filling the same cache exclude each
/// other: on Unix an exclusive <c>flock</c> on the lock file (Python: <c>fcntl.flock(fd, LOCK_EX | LOCK_NB)</c> on a
/// file opened read-write, created if missing, left in place after release); on Windows a one-byte exclusive byte-range
/// lock at offset 0 on the file opened with read and write sharing (Python: <c>LockFileEx</c>, formerly
/// <c>msvcrt.locking</c>, over that byte; the file is deleted after release).
/// .NET takes the same <c>flock</c> when a file is opened without sharing; the explicit call below keeps the lock when
/// .NET's own locking is switched off (DOTNET_SYSTEM_IO_DISABLEFILELOCKING).
/// Where the file system has no <c>flock</c> (some network mounts), there is no lock, as huggingface_hub then has only a
/// weak one: the download goes on, and its partial file and atomic rename keep the blob whole.
/// Invariant: held from before the blob is examined until its snapshot entry exists; <see cref="Dispose"/> releases it
/// (closing the file releases it too, however the process ends).
/// </summary>
internal sealed class CacheLock : IDisposable
{
    private static readonly TimeSpan FirstRetry = TimeSpan.FromMilliseconds(50);
    private static readonly TimeSpan LastRetry = TimeSpan.FromSeconds(1);
    private static readonly bool OnWindows = RuntimeInformation.IsOSPlatform(OSPlatform.Windows);

    private readonly FileStream? _file; // null: no lock could be had on this file system
    private readonly string _path;

    private CacheLock(FileStream? file, string path)
    {
        _file = file;
        _path = path;
    }

    /// <summary>True when the lock is held (false only where the file system cannot lock).</summary>
    public bool Held => _file is not null;

    /// <summary>
    /// Takes the lock at <paramref name="path"/>, waiting (polling, bounded only by <paramref name="cancellationToken"/>)
    /// while another process holds it: that one is filling the same blob, which this one then finds in place.
    /// </summary>
    public static async Task<CacheLock> AcquireAsync(string path, string what, ILogger? logger, CancellationToken cancellationToken)
    {
        var delay = FirstRetry;
        var told = false;
        var denied = 0;
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        while (true)
        {
            cancellationToken.ThrowIfCancellationRequested();
            try
            {
                if (TryTake(path, logger) is { } taken) return taken;
            }
            catch (UnauthorizedAccessException) when (OnWindows && ++denied < 10)
            {
                // Windows answers "access denied" for a moment while the holder deletes the file it released.
            }
            if (!told)
            {
                // A warning, so -Verbose shows why a file seems to make no progress.
                logger?.LogWarning("Waiting for another process that is saving {What} into the cache (it holds {Lock})", what, path);
                told = true;
            }
            await Task.Delay(delay, cancellationToken).ConfigureAwait(false);
            delay = TimeSpan.FromTicks(Math.Min(delay.Ticks * 2, LastRetry.Ticks));
        }
    }

    /// <summary>The lock, or null when another process holds it.</summary>
    private static CacheLock? TryTake(string path, ILogger? logger)
    {
        FileStream file;
        try
        {
            file = new FileStream(path, FileMode.OpenOrCreate, FileAccess.ReadWrite, OnWindows ? FileShare.ReadWrite : FileShare.None, 1);
        }
        catch (IOException e) when (IsContention(e))
        {
            return null;
        }
        try
        {
            if (RuntimeInformation.IsOSPlatform(OSPlatform.Windows))
            {
                try
                {
                    file.Lock(0, 1);
                }
                catch (IOException e) when (IsContention(e))
                {
                    file.Dispose();
                    return null;
                }
                return new CacheLock(file, path);
            }
            var result = Flock(file, LockExclusive | LockNonBlocking);
            if (result == 0) return new CacheLock(file, path);
            var errno = Marshal.GetLastWin32Error();
            if (errno == (RuntimeInformation.IsOSPlatform(OSPlatform.Linux) ? 11 : 35))
            {
                file.Dispose();
                return null;
            }
            logger?.LogDebug("No lock on {Lock}: the file system refuses flock (errno {Errno}); saving without it", path, errno);
            file.Dispose();
            return new CacheLock(null, path);
        }
        catch
        {
            file.Dispose();
            throw;
        }
    }

    public void Dispose()
    {
        if (_file is null) return;
        if (RuntimeInformation.IsOSPlatform(OSPlatform.Windows))
        {
            try
            {
                _file.Unlock(0, 1);
            }
            catch (IOException)
            {
                // Closing the handle releases the byte-range lock anyway.
            }
            _file.Dispose();
            try
            {
                File.Delete(_path); // as filelock does on Windows
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                // A waiter holding the file open keeps it, which is harmless: the lock is the byte range, not the file.
            }
            return;
        }
        // On Unix the file stays: deleting a lock file others wait on would split them across two inodes.
        _file.Dispose();
    }

    /// <summary>
    /// The open or lock failed because another handle holds the file. Windows: ERROR_SHARING_VIOLATION or
    /// ERROR_LOCK_VIOLATION; Unix: .NET's own <c>flock</c> found it locked (EWOULDBLOCK: 11 on Linux, 35 on macOS and
    /// the BSDs).
    /// </summary>
    private static bool IsContention(IOException e) =>
        OnWindows ? (e.HResult & 0xFFFF) is 32 or 33
        : e.HResult == (RuntimeInformation.IsOSPlatform(OSPlatform.Linux) ? 11 : 35);

    private const int LockExclusive = 2, LockNonBlocking = 4;

    private static int Flock(FileStream file, int operation)
    {
        var handle = file.SafeFileHandle;
        var added = false;
        try
        {
            handle.DangerousAddRef(ref added);
            return FlockNative(handle.DangerousGetHandle().ToInt32(), operation);
        }
        finally
        {
            if (added) handle.DangerousRelease();
        }
    }

    [DllImport("libc", EntryPoint = "flock", SetLastError = true)]
    private static extern int FlockNative(int fd, int operation);
}
