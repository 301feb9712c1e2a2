using System;
using System.Buffers.Binary;
using System.Collections.Generic;
using System.IO;
using System.Text;
using XetPs.Cas;
using XetPs.Format;

namespace XetPs.Reconstruction;

/// <summary>
/// Where the chunks of a downloaded Xet file sit in it: runs of consecutive chunks of one xorb written back to back,
/// each chunk's length, for the file id the bytes hashed to. Kept beside the file's record
/// (<c>&lt;root&gt;/.cache/xetps/&lt;path&gt;.terms</c>) after a verified download, so that the next version of the file
/// can take every chunk it shares with this one from the disk instead of the network: Xet's content-defined chunks
/// mean an updated file names, for its unchanged parts, the very (xorb, chunk) pairs the old one did. Small: a run is
/// 56 bytes and a chunk 4. Chunks resumed from an earlier run are not in it (the journal keeps no xorb), which only
/// means they are fetched next time.
/// </summary>
internal sealed class WrittenTerms
{
    private static readonly byte[] Magic = Encoding.ASCII.GetBytes("XETPST01");
    private const int RunSize = XetHash.Size + 4 + 4 + 8 + 4 + 4;

    /// <summary>Chunks [ChunkStart, ChunkEnd) of <paramref name="Xorb"/> at file bytes from <paramref name="FileOffset"/>
    /// on; their lengths are the map's lengths from <paramref name="LengthsAt"/>.</summary>
    private readonly record struct Run(XetHash Xorb, int ChunkStart, int ChunkEnd, long FileOffset, int LengthsAt);

    private readonly List<Run> _runs = new();
    private readonly List<int> _lengths = new();
    private Dictionary<XetHash, List<int>>? _byXorb; // run indices per xorb, built on first lookup
    private long[]? _offsetInRun;                    // per chunk: its offset from its run's first byte

    public WrittenTerms(XetHash fileId, long size)
    {
        FileId = fileId;
        Size = size;
    }

    public XetHash FileId { get; }

    public long Size { get; }

    public int ChunkCount => _lengths.Count;

    /// <summary>Records chunk <paramref name="chunk"/> of <paramref name="xorb"/> as written at <paramref name="fileOffset"/>.</summary>
    public void Add(XetHash xorb, int chunk, long fileOffset, int length)
    {
        if (_runs.Count > 0)
        {
            var last = _runs[_runs.Count - 1];
            if (last.Xorb == xorb && last.ChunkEnd == chunk && _runEnd == fileOffset)
            {
                _runs[_runs.Count - 1] = last with { ChunkEnd = chunk + 1 };
                _lengths.Add(length);
                _runEnd += length;
                return;
            }
        }
        _runs.Add(new Run(xorb, chunk, chunk + 1, fileOffset, _lengths.Count));
        _lengths.Add(length);
        _runEnd = fileOffset + length;
    }

    private long _runEnd; // file offset just past the last run

    private long EndOf(Run run)
    {
        long end = run.FileOffset;
        for (var i = 0; i < run.ChunkEnd - run.ChunkStart; i++) end += _lengths[run.LengthsAt + i];
        return end;
    }

    /// <summary>
    /// Where the chunks of <paramref name="term"/> sit in the file this map describes, one (offset, length) per chunk in
    /// order, or null when any of them is not in it or the lengths do not add up to the term's unpacked length.
    /// </summary>
    public (long[] Offsets, int[] Lengths)? Locate(ReconstructionTerm term)
    {
        _byXorb ??= Index();
        if (!_byXorb.TryGetValue(term.Xorb, out var runs)) return null;
        var count = term.Chunks.Count;
        var offsets = new long[count];
        var lengths = new int[count];
        long total = 0;
        for (var i = 0; i < count; i++)
        {
            var chunk = term.Chunks.Start + i;
            var found = false;
            foreach (var r in runs)
            {
                var run = _runs[r];
                if (chunk < run.ChunkStart || chunk >= run.ChunkEnd) continue;
                var at = run.LengthsAt + chunk - run.ChunkStart;
                offsets[i] = run.FileOffset + _offsetInRun![at];
                lengths[i] = _lengths[at];
                total += lengths[i];
                found = true;
                break;
            }
            if (!found) return null;
        }
        return total == term.UnpackedLength ? (offsets, lengths) : null;
    }

    private Dictionary<XetHash, List<int>> Index()
    {
        var index = new Dictionary<XetHash, List<int>>();
        _offsetInRun = new long[_lengths.Count];
        for (var r = 0; r < _runs.Count; r++)
        {
            var run = _runs[r];
            if (!index.TryGetValue(run.Xorb, out var list)) index[run.Xorb] = list = new List<int>();
            list.Add(r);
            long offset = 0;
            for (var i = run.LengthsAt; i < run.LengthsAt + run.ChunkEnd - run.ChunkStart; i++)
            {
                _offsetInRun[i] = offset;
                offset += _lengths[i];
            }
        }
        return index;
    }

    /// <summary>Where the map of <paramref name="destinationPath"/> lives: beside its record.</summary>
    public static string PathFor(string destinationPath, string repoPath)
    {
        var record = LocalFileRecord.PathFor(destinationPath, repoPath);
        return record.Substring(0, record.Length - ".meta".Length) + ".terms";
    }

    /// <summary>Writes the map as a new file at <paramref name="path"/> under the working folder of <paramref name="root"/>
    /// (its folders no links), never through a link.</summary>
    public void Save(string root, string path)
    {
        WorkFolder.Prepare(root, path);
        Write(path);
    }

    /// <summary>Writes the map as a new file at <paramref name="path"/> in a folder of its own (the Hugging Face cache's
    /// lock folder), never through a link.</summary>
    public void Save(string path)
    {
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        Write(path);
    }

    private void Write(string path)
    {
        var bytes = new byte[Magic.Length + XetHash.Size + 8 + 4 + 4 + _runs.Count * RunSize + _lengths.Count * 4];
        var span = bytes.AsSpan();
        Magic.CopyTo(span);
        FileId.CopyTo(span.Slice(8));
        var at = 8 + XetHash.Size;
        BinaryPrimitives.WriteInt64LittleEndian(span.Slice(at), Size);
        BinaryPrimitives.WriteInt32LittleEndian(span.Slice(at + 8), _runs.Count);
        BinaryPrimitives.WriteInt32LittleEndian(span.Slice(at + 12), _lengths.Count);
        at += 16;
        foreach (var run in _runs)
        {
            run.Xorb.CopyTo(span.Slice(at));
            BinaryPrimitives.WriteInt32LittleEndian(span.Slice(at + 32), run.ChunkStart);
            BinaryPrimitives.WriteInt32LittleEndian(span.Slice(at + 36), run.ChunkEnd);
            BinaryPrimitives.WriteInt64LittleEndian(span.Slice(at + 40), run.FileOffset);
            BinaryPrimitives.WriteInt32LittleEndian(span.Slice(at + 48), run.LengthsAt);
            at += RunSize;
        }
        foreach (var length in _lengths)
        {
            BinaryPrimitives.WriteInt32LittleEndian(span.Slice(at), length);
            at += 4;
        }
        using var stream = WorkFolder.OpenStream(path, FileMode.Create, FileAccess.Write, FileShare.Read, 64 * 1024, FileOptions.None);
        stream.Write(bytes, 0, bytes.Length);
    }

    /// <summary>
    /// The map at <paramref name="path"/> if it is whole and describes <paramref name="fileId"/> of <paramref name="size"/>
    /// bytes with runs that stay inside the file; null otherwise (absent, foreign, cut short or inconsistent: the chunks
    /// are then fetched, which is never wrong).
    /// </summary>
    public static WrittenTerms? TryLoad(string path, XetHash fileId, long size)
    {
        byte[] bytes;
        try
        {
            if (WorkFolder.IsLink(path) || !File.Exists(path)) return null;
            bytes = File.ReadAllBytes(path);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return null;
        }
        var span = new ReadOnlySpan<byte>(bytes);
        var header = 8 + XetHash.Size + 16;
        if (span.Length < header || !span.Slice(0, 8).SequenceEqual(Magic) || new XetHash(span.Slice(8, XetHash.Size)) != fileId) return null;
        var at = 8 + XetHash.Size;
        if (BinaryPrimitives.ReadInt64LittleEndian(span.Slice(at)) != size) return null;
        var runs = BinaryPrimitives.ReadInt32LittleEndian(span.Slice(at + 8));
        var chunks = BinaryPrimitives.ReadInt32LittleEndian(span.Slice(at + 12));
        if (runs < 0 || chunks < 0 || span.Length != header + (long)runs * RunSize + (long)chunks * 4) return null;
        var map = new WrittenTerms(fileId, size);
        at = header;
        for (var r = 0; r < runs; r++, at += RunSize)
            map._runs.Add(new Run(new XetHash(span.Slice(at, XetHash.Size)), BinaryPrimitives.ReadInt32LittleEndian(span.Slice(at + 32)),
                BinaryPrimitives.ReadInt32LittleEndian(span.Slice(at + 36)), BinaryPrimitives.ReadInt64LittleEndian(span.Slice(at + 40)),
                BinaryPrimitives.ReadInt32LittleEndian(span.Slice(at + 48))));
        for (var c = 0; c < chunks; c++, at += 4)
        {
            var length = BinaryPrimitives.ReadInt32LittleEndian(span.Slice(at));
            if (length <= 0 || length > XorbChunkHeader.MaxUncompressedLength) return null;
            map._lengths.Add(length);
        }
        foreach (var run in map._runs)
        {
            var count = run.ChunkEnd - run.ChunkStart;
            if (run.ChunkStart < 0 || count <= 0 || run.LengthsAt < 0 || run.LengthsAt + (long)count > chunks || run.FileOffset < 0 ||
                map.EndOf(run) > size)
                return null;
        }
        return map;
    }
}
