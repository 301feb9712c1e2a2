using System;
using System.IO;
using System.Runtime.InteropServices;
using System.Threading;
using System.Threading.Tasks;

namespace XetPs.Reconstruction;

/// <summary>.NET Standard (Windows PowerShell 5.1): a <see cref="FileStream"/>, always through the page cache.</summary>
internal sealed partial class PartialFile
{
    private readonly FileStream _file;

    private PartialFile(string path, FileStream file)
    {
        _path = path;
        _file = file;
    }

    /// <summary>Opens (or creates) the partial file at <paramref name="path"/>; others may read it meanwhile.</summary>
    public static PartialFile Open(string path) =>
        new(path, WorkFolder.OpenStream(path, FileMode.OpenOrCreate, FileAccess.ReadWrite, FileShare.Read, 1 << 16, FileOptions.Asynchronous));

    public bool WritesDirect => false;

    public long DurableEnd(long written) => written;

    public void SetLength(long length) => _file.SetLength(length);

    public bool TryWriteDirect(long position, DirectWriteStages stages) => false;

    public void Preallocate(long offset, long length)
    {
    }

    /// <summary>Hands the stream's buffered bytes to the OS, so a journal commit never covers bytes still in memory.</summary>
    public Task FlushToOsAsync(CancellationToken cancellationToken) => _file.FlushAsync(cancellationToken);

    public Task FinishAsync(long length, CancellationToken cancellationToken) => _file.FlushAsync(cancellationToken);

    public void EndDirectWrites()
    {
    }

    public void Dispose() => _file.Dispose();

    private long GetLength() => _file.Length;

    private int ReadAt(byte[] buffer, int start, int count, long offset)
    {
        _file.Position = offset;
        return _file.Read(buffer, start, count);
    }

    private async ValueTask WriteSliceAsync(ReadOnlyMemory<byte> slice, long offset, CancellationToken cancellationToken)
    {
        if (_file.Position != offset) _file.Position = offset;
        if (MemoryMarshal.TryGetArray(slice, out var segment))
            await _file.WriteAsync(segment.Array!, segment.Offset, segment.Count, cancellationToken).ConfigureAwait(false);
        else
            await _file.WriteAsync(slice.ToArray(), 0, slice.Length, cancellationToken).ConfigureAwait(false);
    }

    private ValueTask<bool> TryWriteDirectAsync(ReadOnlyMemory<byte> data, CancellationToken cancellationToken) => new(false);
}
