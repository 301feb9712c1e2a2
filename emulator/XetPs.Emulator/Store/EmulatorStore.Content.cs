using System;
using System.Buffers;
using System.Collections.Concurrent;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using System.Threading;
using System.Threading.Tasks;
using XetPs.Format;
using XetPs.Hub;

namespace XetPs.Emulator.Store;

/// <summary>File records and the content of stored files, served back as bytes (a plain blob, or a Xet file rebuilt from its terms).</summary>
public sealed partial class EmulatorStore
{
    internal void PutFileRecord(FileRecord record)
    {
        string path = System.IO.Path.Combine(Directory, "files", record.Hash + ".json");
        if (!File.Exists(path)) AtomicFile.Write(path, record.ToJson());
        _files[record.Hash] = record;
    }

    /// <summary>The reconstruction record of a Xet file, or null when the store does not know the hash.</summary>
    internal FileRecord? GetFileRecord(XetHash hash)
    {
        if (_files.TryGetValue(hash, out var r)) return r;
        string path = System.IO.Path.Combine(Directory, "files", hash + ".json");
        if (!File.Exists(path)) return null;
        r = FileRecord.FromJson(hash, File.ReadAllBytes(path));
        _files[hash] = r;
        return r;
    }

    /// <summary>True when some commit of the repo (reachable from a branch) holds the Xet file: CAS tokens are scoped to a repo.</summary>
    internal bool RepoHoldsFile(RepoId repo, XetHash file)
    {
        var set = _repoFiles.GetOrAdd(repo, r =>
        {
            var hashes = new HashSet<XetHash>();
            var state = GetState(r);
            if (state is null) return hashes;
            lock (state)
            {
                var seen = new HashSet<string>(StringComparer.Ordinal);
                var todo = new Stack<string>(state.Branches.Values);
                while (todo.Count > 0)
                {
                    string id = todo.Pop();
                    if (!seen.Add(id)) continue;
                    var c = state.GetCommit(id);
                    if (c is null) continue;
                    foreach (var f in c.Files) if (f.XetHash is { } x) hashes.Add(XetHash.Parse(x));
                    if (c.Parent is not null) todo.Push(c.Parent);
                }
            }
            return hashes;
        });
        return set.Contains(file);
    }

    /// <summary>
    /// Copies bytes [<paramref name="start"/>, <paramref name="endExclusive"/>) of a stored file to <paramref name="destination"/>:
    /// plain files from their blob, Xet files decoded term by term from the xorbs (the bridge a client reaches by following
    /// the resolve redirect).
    /// </summary>
    public async Task CopyContentAsync(StoredFile file, Stream destination, long start, long endExclusive, CancellationToken cancellationToken = default)
    {
        if (start < 0 || endExclusive > file.Size || start > endExclusive)
            throw new ArgumentOutOfRangeException(nameof(start), $"Range [{start}, {endExclusive}) is outside '{file.Path}' ({file.Size} bytes).");
        if (!file.IsXet)
        {
            await using var fs = new FileStream(System.IO.Path.Combine(Directory, "blobs", file.GitOid), FileMode.Open, FileAccess.Read, FileShare.Read, 1 << 16, useAsync: true);
            fs.Position = start;
            byte[] buf = new byte[1 << 16];
            long left = endExclusive - start;
            while (left > 0)
            {
                int n = await fs.ReadAsync(buf.AsMemory(0, (int)Math.Min(buf.Length, left)), cancellationToken).ConfigureAwait(false);
                if (n == 0) throw new EndOfStreamException($"Blob {file.GitOid} of '{file.Path}' is shorter than {file.Size} bytes.");
                await destination.WriteAsync(buf.AsMemory(0, n), cancellationToken).ConfigureAwait(false);
                left -= n;
            }
            return;
        }
        var record = GetFileRecord(XetHash.Parse(file.XetHash!)) ?? throw new FileNotFoundException($"The store has no reconstruction for {file.XetHash}.");
        await CopyXetContentAsync(record, destination, start, endExclusive, cancellationToken).ConfigureAwait(false);
    }

    internal async Task CopyXetContentAsync(FileRecord record, Stream destination, long start, long endExclusive, CancellationToken ct)
    {
        long pos = 0;
        byte[] chunk = ArrayPool<byte>.Shared.Rent(XorbChunkHeader.MaxUncompressedLength);
        try
        {
            foreach (var term in record.Terms)
            {
                long termEnd = pos + term.UnpackedLength;
                if (termEnd <= start) { pos = termEnd; continue; }
                if (pos >= endExclusive) break;
                var meta = Xorbs.Get(term.Xorb);
                long byteStart = meta.ByteStart(term.Start), byteEnd = meta.ByteEnd(term.End);
                byte[] raw = ArrayPool<byte>.Shared.Rent(checked((int)(byteEnd - byteStart)));
                try
                {
                    using (var handle = Xorbs.Open(term.Xorb))
                    {
                        int read = 0;
                        while (read < byteEnd - byteStart)
                        {
                            ct.ThrowIfCancellationRequested();
                            int n = handle.Read(raw.AsSpan(read, (int)(byteEnd - byteStart) - read), byteStart + read);
                            if (n == 0) throw new EndOfStreamException($"Xorb {term.Xorb} is shorter than its meta says.");
                            read += n;
                        }
                    }
                    int offset = 0;
                    for (int c = term.Start; c < term.End; c++)
                    {
                        int len = XorbChunkCodec.Decode(raw.AsSpan(offset, (int)(byteEnd - byteStart) - offset), chunk, out int consumed);
                        offset += consumed;
                        long cs = Math.Max(pos, start), ce = Math.Min(pos + len, endExclusive);
                        if (ce > cs) await destination.WriteAsync(chunk.AsMemory((int)(cs - pos), (int)(ce - cs)), ct).ConfigureAwait(false);
                        pos += len;
                        if (pos >= endExclusive) break;
                    }
                }
                finally { ArrayPool<byte>.Shared.Return(raw); }
                if (pos >= endExclusive) break;
            }
        }
        finally { ArrayPool<byte>.Shared.Return(chunk); }
    }
}
