using System;
using System.Threading;
using System.Threading.Tasks;

namespace XetPs.Reconstruction;

/// <summary>
/// The file a download writes into before it is moved into place (<see cref="ResumeJournal.PartialPathFor"/>): the
/// framework's file handle, and on .NET 8 the direct writer that takes large files past the page cache. Its halves for
/// each framework are in PartialFile.net8.cs and PartialFile.netstandard.cs. Owned by one file's writer, not
/// thread-safe. Invariant: bytes below <see cref="DurableEnd"/> are in the file (a direct writer keeps its last stages
/// in memory until it writes them); Dispose closes the direct writer before the handle, so the write in flight decides
/// how much of the file is there.
/// </summary>
internal sealed partial class PartialFile : IDisposable
{
    /// <summary>
    /// Bytes per write call. A term can be a whole xorb range (64 MiB): one write that large copies from memory the
    /// caches lost long ago and holds the file's lock for the whole copy, and page-cache folios sized from a large write
    /// come from the free blocks a VM hands back to its host, slow to touch again; writes of a few hundred KiB avoid
    /// both and cost nothing measurable in calls.
    /// </summary>
    internal const int WriteSlice = 256 << 10;

    private readonly string _path;

    /// <summary>The partial file's length on disk now.</summary>
    public long Length => GetLength();

    /// <summary>Reads exactly <paramref name="count"/> bytes at <paramref name="offset"/> into the start of <paramref name="buffer"/>.</summary>
    public void ReadExactly(byte[] buffer, int count, long offset)
    {
        var done = 0;
        while (done < count)
        {
            var n = ReadAt(buffer, done, count - done, offset + done);
            if (n <= 0) throw new System.IO.EndOfStreamException($"The partial file '{_path}' is shorter than its journal says.");
            done += n;
        }
    }

    /// <summary>Writes <paramref name="data"/> at <paramref name="offset"/>, the end of what was written so far.</summary>
    public async Task WriteAsync(ReadOnlyMemory<byte> data, long offset, CancellationToken cancellationToken)
    {
        if (await TryWriteDirectAsync(data, cancellationToken).ConfigureAwait(false)) return;
        while (data.Length > 0)
        {
            var slice = data.Slice(0, Math.Min(data.Length, WriteSlice));
            await WriteSliceAsync(slice, offset, cancellationToken).ConfigureAwait(false);
            data = data.Slice(slice.Length);
            offset += slice.Length;
        }
    }
}
