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

/// <summary>How a commit takes files in: chunked and packed into xorbs (Xet) or kept as git blobs (plain), with a cache of what generated content was built to.</summary>
public sealed partial class EmulatorStore
{
    private async Task<StoredFile> AddFileAsync(RepoFile file, XorbPacker packer, List<IngestedFile> pending, List<(string, StoredFile)> cacheWrites,
                                                long minSize, CompressionScheme? compression, CancellationToken ct)
    {
        string? cacheFile = null;
        if (file.CacheKey is not null)
        {
            string key = $"{file.CacheKey}|min={minSize}|as={file.StoreAsXet}|c={compression}";
            cacheFile = System.IO.Path.Combine(Directory, "cache", Convert.ToHexString(SHA256.HashData(Encoding.UTF8.GetBytes(key))).ToLowerInvariant() + ".json");
            if (TryReadCache(cacheFile, file.Path) is { } cached) return cached;
        }

        StoredFile stored;
        if (file.Build is not null)
        {
            // Built content seals its own xorbs: seal ours first so the dedup index is complete for it.
            packer.Seal();
            foreach (var f in pending) SaveFileRecord(f);
            pending.Clear();
            stored = await file.Build(this, ct).ConfigureAwait(false) with { Path = file.Path };
        }
        else
        {
            await using var content = file.Open();
            byte[] prefix = Array.Empty<byte>();
            bool xet;
            if (file.StoreAsXet is bool forced) xet = forced;
            else if (minSize == 0) xet = true;
            else if (content.CanSeek) xet = content.Length - content.Position >= minSize;
            else
            {
                // Unknown length: read up to the threshold to decide; the prefix is then fed first.
                prefix = new byte[(int)Math.Min(minSize, 64 << 20)];
                int got = 0, n;
                while (got < prefix.Length && (n = await content.ReadAsync(prefix.AsMemory(got), ct).ConfigureAwait(false)) > 0) got += n;
                Array.Resize(ref prefix, got);
                xet = got >= minSize;
            }
            if (xet)
            {
                var ingested = await packer.IngestAsync(content, prefix, ct).ConfigureAwait(false);
                pending.Add(ingested);
                string pointer = LfsPointer.Text(ingested.Sha256, ingested.Size);
                stored = new StoredFile(file.Path, ingested.Size, ingested.Sha256, GitBlobOid(Encoding.UTF8.GetBytes(pointer)), ingested.FileHash.ToString());
            }
            else
            {
                stored = await StorePlainAsync(file.Path, prefix, content, ct).ConfigureAwait(false);
            }
        }
        // The shortcut is written after the seal, once the file record it points at is on disk.
        if (cacheFile is not null) cacheWrites.Add((cacheFile, stored));
        return stored;
    }

    private async Task<StoredFile> StorePlainAsync(string path, byte[] prefix, Stream content, CancellationToken ct)
    {
        // Stream into a temp file (sha256 and size on the way), then the git oid (needs the size first) on a second pass.
        string blobs = System.IO.Path.Combine(Directory, "blobs");
        string tmp = System.IO.Path.Combine(blobs, Guid.NewGuid().ToString("N") + ".tmp");
        using var sha = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        long size = 0;
        try
        {
            await using (var fs = new FileStream(tmp, FileMode.CreateNew, FileAccess.Write, FileShare.None, 1 << 16, useAsync: true))
            {
                sha.AppendData(prefix);
                await fs.WriteAsync(prefix, ct).ConfigureAwait(false);
                size += prefix.Length;
                byte[] buf = ArrayPool<byte>.Shared.Rent(1 << 16);
                try
                {
                    int n;
                    while ((n = await content.ReadAsync(buf.AsMemory(0, 1 << 16), ct).ConfigureAwait(false)) > 0)
                    {
                        sha.AppendData(buf, 0, n);
                        await fs.WriteAsync(buf.AsMemory(0, n), ct).ConfigureAwait(false);
                        size += n;
                    }
                }
                finally { ArrayPool<byte>.Shared.Return(buf); }
            }
            string oid;
            using (var sha1 = IncrementalHash.CreateHash(HashAlgorithmName.SHA1))
            {
                sha1.AppendData(Encoding.ASCII.GetBytes("blob " + size + "\0"));
                await using var rs = new FileStream(tmp, FileMode.Open, FileAccess.Read, FileShare.Read, 1 << 16, useAsync: true);
                byte[] buf = new byte[1 << 16];
                int n;
                while ((n = await rs.ReadAsync(buf, ct).ConfigureAwait(false)) > 0) sha1.AppendData(buf, 0, n);
                oid = Convert.ToHexString(sha1.GetHashAndReset()).ToLowerInvariant();
            }
            File.Move(tmp, System.IO.Path.Combine(blobs, oid), overwrite: true);
            return new StoredFile(path, size, Convert.ToHexString(sha.GetHashAndReset()).ToLowerInvariant(), oid, null);
        }
        finally
        {
            if (File.Exists(tmp)) File.Delete(tmp);
        }
    }

    private StoredFile? TryReadCache(string cacheFile, string path)
    {
        if (!File.Exists(cacheFile)) return null;
        var dto = JsonSerializer.Deserialize<CacheDto>(File.ReadAllBytes(cacheFile));
        if (dto is null) return null;
        var stored = new StoredFile(path, dto.Size, dto.Sha256, dto.Oid, dto.Xet);
        // Trust the shortcut only when what it points at is still in the store.
        bool present = stored.XetHash is { } x
            ? File.Exists(System.IO.Path.Combine(Directory, "files", x + ".json"))
            : File.Exists(System.IO.Path.Combine(Directory, "blobs", stored.GitOid));
        return present ? stored : null;
    }

    private static void WriteCache(string cacheFile, StoredFile f) =>
        AtomicFile.Write(cacheFile, JsonSerializer.SerializeToUtf8Bytes(new CacheDto { Size = f.Size, Sha256 = f.Sha256, Oid = f.GitOid, Xet = f.XetHash }));

    private sealed class CacheDto
    {
        public long Size { get; set; }
        public string Sha256 { get; set; } = "";
        public string Oid { get; set; } = "";
        public string? Xet { get; set; }
    }

    private void SaveFileRecord(IngestedFile f)
    {
        var record = new FileRecord(f.FileHash, f.Size, f.Sha256, f.Terms.Select(t => t.Resolve()).ToArray());
        PutFileRecord(record);
    }
}
