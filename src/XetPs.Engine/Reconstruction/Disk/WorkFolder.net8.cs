#if NET8_0_OR_GREATER
using System.IO;
using Microsoft.Win32.SafeHandles;

namespace XetPs.Reconstruction;

internal static partial class WorkFolder
{
    /// <summary>As <see cref="OpenStream"/>, as a bare handle (the writer's positional I/O through RandomAccess).</summary>
    public static SafeFileHandle OpenHandle(string path, FileMode mode, FileAccess access, FileShare share, FileOptions options) =>
        Open(path, mode, actual => File.OpenHandle(path, actual, access, share, options), handle => handle);
}
#endif
