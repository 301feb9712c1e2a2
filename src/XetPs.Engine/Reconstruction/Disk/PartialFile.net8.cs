using System;
using System.IO;
using System.Threading;
using System.Threading.Tasks;
using Microsoft.Win32.SafeHandles;

namespace XetPs.Reconstruction;

/// <summary>.NET 8: positional writes through a <see cref="SafeFileHandle"/>, and direct writes for large files.</summary>
internal sealed partial class PartialFile
{
    private readonly SafeFileHandle _file;
    private DirectFileWriter? _direct; // null: writes go through the page cache

    private PartialFile(string path, SafeFileHandle file)
    {
        _path = path;
        _file = file;
    }

    /// <summary>Opens (or creates) the partial file at <paramref name="path"/>; others may read it meanwhile.</summary>
    public static PartialFile Open(string path) =>
        new(path, WorkFolder.OpenHandle(path, FileMode.OpenOrCreate, FileAccess.ReadWrite, FileShare.Read, FileOptions.Asynchronous));

    /// <summary>True when the bytes go past the page cache (<see cref="DirectFileWriter"/>).</summary>
    public bool WritesDirect => _direct is not null;

    /// <summary>The end of the bytes that are in the file when <paramref name="written"/> were handed over: a direct
    /// writer's last stages are still in memory.</summary>
    public long DurableEnd(long written) => _direct?.Durable ?? written;

    public void SetLength(long length) => RandomAccess.SetLength(_file, length);

    /// <summary>Takes the writes from <paramref name="position"/> on past the page cache, where the file system allows
    /// it and <paramref name="stages"/> has a free set; false when the writes stay buffered.</summary>
    public bool TryWriteDirect(long position, DirectWriteStages stages)
    {
        _direct = DirectFileWriter.TryOpen(_path, _file, position, stages);
        return _direct is not null;
    }

    /// <summary>Allocates the blocks of the bytes still to come (advice only; see <see cref="Preallocation"/>).</summary>
    public void Preallocate(long offset, long length) => Preallocation.TryAllocate(_file, offset, length);

    /// <summary>Nothing to do here: positional writes reach the OS as they are made.</summary>
    public Task FlushToOsAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    /// <summary>Writes what a direct writer still stages and gives the file its final <paramref name="length"/>.</summary>
    public async Task FinishAsync(long length, CancellationToken cancellationToken)
    {
        if (_direct is null) return;
        await _direct.FinishAsync(length, cancellationToken).ConfigureAwait(false);
        _direct.Dispose();
    }

    /// <summary>Ends direct writing: the write in flight decides how much of the file is there
    /// (<see cref="DurableEnd"/> says how much).</summary>
    public void EndDirectWrites() => _direct?.Dispose();

    public void Dispose()
    {
        try
        {
            _direct?.Dispose();
        }
        finally
        {
            _file.Dispose();
        }
    }

    private long GetLength() => RandomAccess.GetLength(_file);

    private int ReadAt(byte[] buffer, int start, int count, long offset) => RandomAccess.Read(_file, buffer.AsSpan(start, count), offset);

    private ValueTask WriteSliceAsync(ReadOnlyMemory<byte> slice, long offset, CancellationToken cancellationToken) =>
        RandomAccess.WriteAsync(_file, slice, offset, cancellationToken);

    private async ValueTask<bool> TryWriteDirectAsync(ReadOnlyMemory<byte> data, CancellationToken cancellationToken)
    {
        if (_direct is null) return false;
        await _direct.WriteAsync(data, cancellationToken).ConfigureAwait(false);
        return true;
    }

    /// <summary>Reads exactly <paramref name="buffer"/>'s length at <paramref name="offset"/> of <paramref name="file"/>
    /// (the direct writer's read-back of a resumed block).</summary>
    internal static void ReadExactly(SafeFileHandle file, Span<byte> buffer, long offset)
    {
        while (buffer.Length > 0)
        {
            var n = RandomAccess.Read(file, buffer, offset);
            if (n <= 0) throw new EndOfStreamException("The partial file is shorter than its journal says.");
            buffer = buffer.Slice(n);
            offset += n;
        }
    }
}
