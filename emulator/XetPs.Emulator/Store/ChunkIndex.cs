using System;
using System.Collections.Generic;
using System.IO;
using XetPs.Format;

namespace XetPs.Emulator.Store;

/// <summary>Where a stored chunk lives: a xorb and the chunk's index in it.</summary>
internal readonly record struct ChunkLocation(XetHash Xorb, int Index);

/// <summary>
/// The dedup index: chunk hash to the stored xorb that holds it, across all files and revisions of the store.
/// Persisted as an append-only file of fixed 68-byte records (chunk hash, xorb hash, index), loaded at open; a torn
/// last record (crash mid-append) is ignored. Only sealed xorbs are recorded, so every location is readable.
/// </summary>
internal sealed class ChunkIndex
{
    private const int RecordSize = XetHash.Size * 2 + 4;
    private readonly string _path;
    private readonly Dictionary<XetHash, ChunkLocation> _map = new();
    private readonly object _gate = new();

    public ChunkIndex(string storeDirectory)
    {
        _path = Path.Combine(storeDirectory, "chunks.idx");
        if (!File.Exists(_path)) return;
        byte[] all = File.ReadAllBytes(_path);
        for (int p = 0; p + RecordSize <= all.Length; p += RecordSize)
        {
            var chunk = new XetHash(all.AsSpan(p, XetHash.Size));
            var xorb = new XetHash(all.AsSpan(p + XetHash.Size, XetHash.Size));
            int index = BitConverter.ToInt32(all, p + 2 * XetHash.Size);
            _map.TryAdd(chunk, new ChunkLocation(xorb, index));
        }
    }

    public int Count { get { lock (_gate) return _map.Count; } }

    public bool TryGet(XetHash chunk, out ChunkLocation location)
    {
        lock (_gate) return _map.TryGetValue(chunk, out location);
    }

    /// <summary>Records every chunk of a sealed xorb that is not yet indexed.</summary>
    public void AddXorb(XorbMeta xorb)
    {
        lock (_gate)
        {
            using var fs = new FileStream(_path, FileMode.Append, FileAccess.Write, FileShare.ReadWrite);
            var record = new byte[RecordSize];
            for (int i = 0; i < xorb.ChunkCount; i++)
            {
                if (!_map.TryAdd(xorb.ChunkHashes[i], new ChunkLocation(xorb.Hash, i))) continue;
                xorb.ChunkHashes[i].CopyTo(record);
                xorb.Hash.CopyTo(record.AsSpan(XetHash.Size));
                BitConverter.TryWriteBytes(record.AsSpan(2 * XetHash.Size), i);
                fs.Write(record);
            }
        }
    }
}
