using System;
using System.Buffers.Binary;
using System.Collections.Generic;
using System.Globalization;
using System.IO;
using System.Security.Cryptography;
using System.Text;
using XetPs.Format;

namespace XetPs.Reconstruction;

/// <summary>
/// The small file kept with an interrupted download's partial file that lets the next run continue it: which file (Xet id and size),
/// the hash and size of every chunk hashed so far (when verifying), and commit marks, each naming a length of the
/// partial file that is fully written, ends on a chunk boundary and whose chunks are all recorded. Append-only, so a crash mid-record loses
/// at most the records after the last commit. Invariant: a commit is written only after the bytes it covers were
/// handed to the OS, and only at a chunk boundary, so the resumed prefix is whole chunks and the merkle builder can
/// be rebuilt from the records. The resumed prefix is re-read and re-hashed before it is trusted (a damaged partial
/// file resumes from its last good chunk), so the final check covers the whole file.
/// Durability: commits are handed to the OS (Flush), not forced to the device, and neither is the partial file (a
/// completed file's record says in which boot it was written, and is trusted only in that boot: see
/// <see cref="BootSession"/>). An fsync per commit would not order the two files anyway (the data would need its own
/// first) and would cost every download its write-back batching. After an OS crash or power loss the journal may vouch for bytes that never reached the disk: the re-hash
/// catches them. An unverified run cannot re-hash, so it resumes only from a journal written in this boot (its
/// last write after <see cref="BootSession.StartedAtUtc"/>); after a restart it starts afresh.
/// The partial file and the journal live under <c>&lt;destination root&gt;/.cache/xetps/</c> with a short hashed name
/// (like huggingface_hub's local-dir <c>.incomplete</c> files), not beside the destination: a name built from the
/// file's own would pass the 255-byte file name limit for long names. Same root, so the same file system as the
/// destination, which keeps the final move an atomic rename.
/// </summary>
internal sealed class ResumeJournal : IDisposable
{
    private static readonly byte[] Magic = Encoding.ASCII.GetBytes("XETPSJ01");
    private const byte ChunkRecord = (byte)'C', CommitRecord = (byte)'K';
    private const int HeaderSize = 8 + XetHash.Size + 8 + 1;
    private const int ChunkRecordSize = 1 + XetHash.Size + 4;
    private const int CommitRecordSize = 1 + 8;

    private readonly string _path;
    private readonly byte[] _record = new byte[ChunkRecordSize];
    // Until the first commit the records wait here and no file exists: a download that completes without a commit
    // (every file under the commit interval) creates and deletes no journal. On ext4, with thousands of small files,
    // each file created costs a scan past recently deleted inodes, a quarter of all CPU time of such a run.
    private MemoryStream? _pending = new();
    private FileStream? _stream;

    private ResumeJournal(string path) => _path = path;

    /// <summary>True once the journal file exists (after the first commit).</summary>
    public bool Created => _stream is not null;

    /// <summary>The partial file of <paramref name="destinationPath"/> (which holds <paramref name="repoPath"/>).</summary>
    public static string PartialPathFor(string destinationPath, string repoPath) => WorkPathFor(destinationPath, repoPath, ".incomplete");

    /// <summary>The journal (or, for a plain file, the marker) of <paramref name="destinationPath"/>.</summary>
    public static string JournalPathFor(string destinationPath, string repoPath) => WorkPathFor(destinationPath, repoPath, ".journal");

    /// <summary>
    /// <c>&lt;root&gt;/.cache/xetps/&lt;key&gt;&lt;suffix&gt;</c>, the key being the first 128 bits of the sha256 of the
    /// destination's '/'-separated path relative to its root, in hex: the same file maps to the same name on every
    /// run (so a rerun finds it), different destinations to different names, and the name is 32 characters whatever
    /// the file is called.
    /// </summary>
    private static string WorkPathFor(string destinationPath, string repoPath, string suffix)
    {
        var (root, relative) = LocalFileRecord.Locate(destinationPath, repoPath);
        byte[] digest;
        using (var sha = SHA256.Create())
            digest = sha.ComputeHash(Encoding.UTF8.GetBytes(relative.Replace(Path.DirectorySeparatorChar, '/')));
        var key = new StringBuilder(32 + suffix.Length);
        for (var i = 0; i < 16; i++) key.Append(digest[i].ToString("x2", CultureInfo.InvariantCulture));
        key.Append(suffix);
        return Path.Combine(LocalFileRecord.CacheFolder(root), key.ToString());
    }

    /// <summary>What an earlier run left: the committed length and how many chunk records (from the first) it covers.</summary>
    internal sealed record State(long CommittedLength, int CommittedChunks, bool HasHashes);

    /// <summary>
    /// Reads the journal at <paramref name="journalPath"/> if it belongs to <paramref name="fileId"/> of
    /// <paramref name="size"/> bytes; returns null (start afresh) when it is absent, foreign or unreadable. Streams the
    /// records in one pass and holds only the chunk ends recorded since the last commit (a commit interval's worth),
    /// never the whole journal: a resumed file of hundreds of GB has millions of records.
    /// </summary>
    public static State? TryRead(string journalPath, XetHash fileId, long size)
    {
        if (!File.Exists(journalPath)) return null;
        try
        {
            using var stream = OpenForReading(journalPath);
            var header = new byte[HeaderSize];
            if (!TryReadExactly(stream, header, header.Length)) return null;
            if (!header.AsSpan(0, 8).SequenceEqual(Magic)) return null;
            if (new XetHash(header.AsSpan(8, XetHash.Size)) != fileId) return null;
            if (BinaryPrimitives.ReadInt64LittleEndian(header.AsSpan(8 + XetHash.Size, 8)) != size) return null;
            var hasHashes = header[HeaderSize - 1] == 1;

            // Ends of the chunks recorded after the last good commit: the next commit must land on one of them.
            var endsAhead = new Queue<long>();
            int committedChunks = 0;
            long committed = 0, sum = 0;
            var record = new byte[ChunkRecordSize - 1];
            while (true)
            {
                var tag = stream.ReadByte();
                if (tag == ChunkRecord && TryReadExactly(stream, record, ChunkRecordSize - 1))
                {
                    var length = BinaryPrimitives.ReadInt32LittleEndian(record.AsSpan(XetHash.Size, 4));
                    if (length <= 0 || length > XorbChunkHeader.MaxUncompressedLength) break;
                    sum += length;
                    endsAhead.Enqueue(sum);
                }
                else if (tag == CommitRecord && TryReadExactly(stream, record, CommitRecordSize - 1))
                {
                    // A commit names a chunk boundary at or before the chunks recorded so far (a chunk may be recorded
                    // before all of it is written).
                    var length = BinaryPrimitives.ReadInt64LittleEndian(record.AsSpan(0, 8));
                    if (length < committed || length > size) break;
                    if (hasHashes && length > committed)
                    {
                        var passed = 0;
                        while (endsAhead.Count > 0 && endsAhead.Peek() < length)
                        {
                            endsAhead.Dequeue();
                            passed++;
                        }
                        if (endsAhead.Count == 0 || endsAhead.Peek() != length) break; // not a chunk boundary
                        endsAhead.Dequeue();
                        committedChunks += passed + 1;
                    }
                    committed = length;
                }
                else
                {
                    break; // a torn record at the end: everything after the last commit is dropped
                }
            }
            return committed == 0 ? null : new State(committed, hasHashes ? committedChunks : 0, hasHashes);
        }
        catch (IOException)
        {
            return null;
        }
    }

    /// <summary>
    /// Streams the first <paramref name="count"/> chunk records (commit records skipped) to <paramref name="onChunk"/>,
    /// with the journal offset just past each record, until it returns false. Records that <see cref="TryRead"/>
    /// vouched for; if the file changed since, it ends where its records stop.
    /// </summary>
    internal static void ForEachChunk(string journalPath, int count, Func<XetHash, int, long, bool> onChunk)
    {
        using var stream = OpenForReading(journalPath);
        stream.Position = HeaderSize;
        var record = new byte[ChunkRecordSize - 1];
        for (var seen = 0; seen < count;)
        {
            var tag = stream.ReadByte();
            if (tag == CommitRecord && TryReadExactly(stream, record, CommitRecordSize - 1)) continue;
            if (tag != ChunkRecord || !TryReadExactly(stream, record, ChunkRecordSize - 1)) return;
            var hash = new XetHash(record.AsSpan(0, XetHash.Size));
            var length = BinaryPrimitives.ReadInt32LittleEndian(record.AsSpan(XetHash.Size, 4));
            seen++;
            if (!onChunk(hash, length, stream.Position)) return;
        }
    }

    /// <summary>Starts a new journal in place of any earlier one: removed now when <paramref name="committed"/> is 0,
    /// replaced now by a journal that commits <paramref name="committed"/> (a prefix kept without hashes) otherwise.</summary>
    public static ResumeJournal Create(string journalPath, XetHash fileId, long size, bool withHashes, long committed)
    {
        // A journal left by an earlier run describes bytes this run may rewrite: it must not outlive this start,
        // even if this run ends before its own first commit.
        if (committed == 0) WorkFolder.Delete(journalPath);
        var journal = new ResumeJournal(journalPath);
        var header = new byte[HeaderSize];
        Magic.CopyTo(header, 0);
        fileId.CopyTo(header.AsSpan(8, XetHash.Size));
        BinaryPrimitives.WriteInt64LittleEndian(header.AsSpan(8 + XetHash.Size, 8), size);
        header[HeaderSize - 1] = withHashes ? (byte)1 : (byte)0;
        journal._pending!.Write(header, 0, header.Length);
        try
        {
            if (committed > 0) journal.Commit(committed);
            return journal;
        }
        catch
        {
            journal.Dispose();
            throw;
        }
    }

    /// <summary>
    /// Continues a resumed run's journal in place, in constant memory: the records past <paramref name="keptRecordsEnd"/>
    /// (the end of the last chunk record kept: damage found after it, or records past the last commit) are cut, and
    /// <paramref name="committed"/> (those chunks' length) is committed again. Every earlier commit lies within the kept
    /// records, since a commit follows the records of the chunks it covers.
    /// </summary>
    public static ResumeJournal Continue(string journalPath, long keptRecordsEnd, long committed)
    {
        if (keptRecordsEnd <= HeaderSize || committed <= 0)
            throw new ArgumentOutOfRangeException(nameof(keptRecordsEnd), keptRecordsEnd, "A continued journal keeps at least one chunk record.");
        var stream = WorkFolder.OpenStream(journalPath, FileMode.Open, FileAccess.Write, FileShare.Read, 64 * 1024, FileOptions.None);
        try
        {
            stream.SetLength(keptRecordsEnd);
            stream.Seek(0, SeekOrigin.End);
            var journal = new ResumeJournal(journalPath) { _stream = stream, _pending = null };
            journal.Commit(committed);
            return journal;
        }
        catch
        {
            stream.Dispose();
            throw;
        }
    }

    private static FileStream OpenForReading(string path) =>
        new(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite, 64 * 1024, FileOptions.SequentialScan);

    private static bool TryReadExactly(Stream stream, byte[] buffer, int count)
    {
        var done = 0;
        while (done < count)
        {
            var n = stream.Read(buffer, done, count - done);
            if (n == 0) return false;
            done += n;
        }
        return true;
    }

    /// <summary>Records one chunk (buffered until the next commit).</summary>
    public void AddChunk(XetHash hash, int size)
    {
        _record[0] = ChunkRecord;
        hash.CopyTo(_record.AsSpan(1, XetHash.Size));
        BinaryPrimitives.WriteInt32LittleEndian(_record.AsSpan(1 + XetHash.Size, 4), size);
        Sink.Write(_record, 0, ChunkRecordSize);
    }

    /// <summary>Marks the first <paramref name="length"/> bytes of the partial file as written and recorded.</summary>
    public void Commit(long length)
    {
        if (_stream is null)
        {
            var stream = WorkFolder.OpenStream(_path, FileMode.Create, FileAccess.Write, FileShare.Read, 64 * 1024, FileOptions.None);
            try
            {
                _pending!.WriteTo(stream); // header and the records so far, then the commit that covers them
            }
            catch
            {
                stream.Dispose();
                throw;
            }
            _stream = stream;
            _pending = null;
        }
        _record[0] = CommitRecord;
        BinaryPrimitives.WriteInt64LittleEndian(_record.AsSpan(1, 8), length);
        _stream.Write(_record, 0, CommitRecordSize);
        _stream.Flush();
    }

    private Stream Sink => (Stream?)_stream ?? _pending!;

    public void Dispose() => _stream?.Dispose();
}
