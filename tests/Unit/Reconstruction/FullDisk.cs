using System.IO;
using System.Runtime.InteropServices;

namespace XetPs.Tests.Reconstruction;

/// <summary>
/// A disk that fills up under a file already open (Linux): every descriptor of this process open on the file is made
/// to lead to /dev/full (dup2), so each later write through it fails with ENOSPC, the OS's own error, while the file
/// stays as it was. Specs used to point a work file's name at /dev/full instead; XetPs no longer follows such a link
/// (<see cref="XetPs.Reconstruction.WorkFolder"/>).
/// </summary>
internal static class FullDisk
{
    /// <summary>Redirects the descriptors open on <paramref name="path"/>; returns how many there were.</summary>
    public static int Fill(string path)
    {
        var full = Open("/dev/full", 1 /* O_WRONLY */);
        Assert.True(full >= 0, "/dev/full cannot be opened");
        try
        {
            var count = 0;
            foreach (var entry in Directory.GetFiles("/proc/self/fd"))
            {
                if (new FileInfo(entry).LinkTarget != path || !int.TryParse(Path.GetFileName(entry), out var fd)) continue;
                Assert.True(Dup2(full, fd) == fd, $"dup2 onto descriptor {fd} failed");
                count++;
            }
            return count;
        }
        finally
        {
            Close(full);
        }
    }

    [DllImport("libc", EntryPoint = "open", SetLastError = true)]
    private static extern int Open(string path, int flags);

    [DllImport("libc", EntryPoint = "dup2", SetLastError = true)]
    private static extern int Dup2(int from, int to);

    [DllImport("libc", EntryPoint = "close", SetLastError = true)]
    private static extern int Close(int fd);
}
