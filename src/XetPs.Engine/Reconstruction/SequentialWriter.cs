using System;
using System.Collections.Generic;
using System.IO;
using System.Threading;
using System.Threading.Tasks;
using Microsoft.Extensions.Logging;
#if NET8_0_OR_GREATER
using Microsoft.Win32.SafeHandles;
#endif
using XetPs.Cas;
using XetPs.Format;

namespace XetPs.Reconstruction;

/// <summary>
/// Writes one file's terms, in file order, into its partial file (see <see cref="ResumeJournal"/>), feeds every chunk hash to
/// the file's merkle builder and journals progress for resume. Owned by one file's writer task (not thread-safe).
/// Invariants: bytes are written contiguously (a term that does not continue exactly where the previous ended is a
/// protocol error); every chunk of the file is hashed exactly once, by the segment it starts in; the journal commits
/// only lengths that are written and whose chunks are all recorded. The destination is never touched here.
/// </summary>
internal sealed class SequentialWriter : IDisposable
{
    private readonly string _repoPath;
    private readonly XetHash _fileId;
    private readonly long _size;
    private readonly bool _verify;
    private readonly MerkleHashBuilder _merkle;
    private readonly ResumeJournal _journal;
#if NET8_0_OR_GREATER
    private readonly SafeFileHandle _file;
    private readonly DirectFileWriter? _direct; // null: writes go through the page cache
#else
    private readonly FileStream _file;
#endif
    private long _hashedEnd;
    private readonly Queue<long> _chunkEndsAhead = new(); // ends of hashed chunks not yet fully written
    private long _committable;
    private long _lastCommit;
    private readonly long _commitEvery;

    private SequentialWriter(string repoPath, XetHash fileId, long size, bool verify, ResumeJournal journal,
#if NET8_0_OR_GREATER
        SafeFileHandle file,
#else
        FileStream file,
#endif
        long resumedFrom, MerkleHashBuilder merkle, long commitEvery
#if NET8_0_OR_GREATER
        , DirectFileWriter? direct
#endif
        )
    {
#if NET8_0_OR_GREATER
        _direct = direct;
#endif
        _commitEvery = commitEvery;
        _repoPath = repoPath;
        _fileId = fileId;
        _size = size;
        _verify = verify;
        _journal = journal;
        _file = file;
        Written = _hashedEnd = _lastCommit = _committable = ResumedFrom = resumedFrom;
        _merkle = merkle; // holds the resumed prefix's chunks already
    }

    /// <summary>Bytes of the file written so far (including the resumed prefix).</summary>
    public long Written { get; private set; }

    /// <summary>Length kept from an earlier run (0 when starting afresh).</summary>
    public long ResumedFrom { get; }

    /// <summary>
    /// Opens the partial file of <paramref name="destinationPath"/>, continuing an earlier run when its journal
    /// names the same file id and size and its prefix re-hashes to the journaled chunk hashes (the longest good
    /// prefix is kept); otherwise starts afresh. With <paramref name="directWriteMinimum"/> at or below the bytes left
    /// to write, the bytes go past the page cache where the file system allows it (<see cref="DirectFileWriter"/>);
    /// a negative value never does.
    /// </summary>
    /// <param name="cancellationToken">Observed while a resumed prefix is re-read (minutes at hundreds of GB); the partial
    /// file and its journal are left as they were.</param>
    /// <param name="prefixVerified">Told the bytes of the resumed prefix confirmed so far, every <paramref name="prefixCheckEvery"/>
    /// bytes while it is re-read (when the token is observed too).</param>
    public static SequentialWriter Open(string destinationPath, string repoPath, XetHash fileId, long size, bool verify, long commitEvery, ILogger? logger,
        long directWriteMinimum = -1, DirectWriteStages? directStages = null, CancellationToken cancellationToken = default,
        Action<long>? prefixVerified = null, long prefixCheckEvery = 64L << 20)
    {
        var partialPath = ResumeJournal.PartialPathFor(destinationPath, repoPath);
        var journalPath = ResumeJournal.JournalPathFor(destinationPath, repoPath);
        WorkFolder.Prepare(LocalFileRecord.Locate(destinationPath, repoPath).Root, partialPath);
        var state = File.Exists(partialPath) ? ResumeJournal.TryRead(journalPath, fileId, size) : null;
        if (state is not null && verify && !state.HasHashes) state = null; // cannot prove the prefix: start afresh
        // A prefix that will not be re-hashed (an unverified run) is trusted only if its journal was written in this boot:
        // across a restart, the bytes it vouches for may never have reached the disk (no fsync; see BootSession).
        if (state is not null && !verify && File.GetLastWriteTimeUtc(journalPath) < BootSession.StartedAtUtc) state = null;

        var file = OpenPartial(partialPath);
        try
        {
            long kept = 0, keptRecordsEnd = 0;
            var merkle = new MerkleHashBuilder();
            if (state is not null)
            {
                if (state.HasHashes && verify)
                    (kept, keptRecordsEnd) = VerifyPrefix(file, state, journalPath, merkle, cancellationToken, prefixVerified, prefixCheckEvery);
                else kept = Math.Min(state.CommittedLength, Length(file));
                if (kept > 0)
                    logger?.LogInformation("Resuming {Path} from byte {Offset} of {Size}", repoPath, kept, size);
            }
            // Only when it changes anything: on ext4 a truncation to 0 marks the file for a synchronous flush of all
            // its delayed allocations at close (auto_da_alloc), which cost ~0.3 s per GiB at the end of a download.
            if (Length(file) != kept) SetLength(file, kept);
#if NET8_0_OR_GREATER
            DirectFileWriter? direct = null;
            if (directWriteMinimum >= 0 && directStages is not null && size - kept >= directWriteMinimum)
            {
                direct = DirectFileWriter.TryOpen(partialPath, file, kept, directStages);
                logger?.LogDebug(direct is null ? "Writing {Path} through the page cache (no direct I/O here, or two files write directly already)" : "Writing {Path} with direct I/O",
                    repoPath);
            }
            if (direct is null) Preallocation.TryAllocate(file, kept, size - kept);
            try
            {
                var journal = OpenJournal(journalPath, fileId, size, verify, kept, keptRecordsEnd);
                return new SequentialWriter(repoPath, fileId, size, verify, journal, file, kept, merkle, commitEvery, direct);
            }
            catch
            {
                direct?.Dispose();
                throw;
            }
#else
            var journal = OpenJournal(journalPath, fileId, size, verify, kept, keptRecordsEnd);
            return new SequentialWriter(repoPath, fileId, size, verify, journal, file, kept, merkle, commitEvery);
#endif
        }
        catch
        {
            file.Dispose();
            throw;
        }
    }

    /// <summary>
    /// Writes the kept bytes of <paramref name="term"/> and hashes its chunks. <paramref name="ranges"/> is the
    /// decoded block the term's chunks are in.
    /// </summary>
    public async Task WriteTermAsync(PlannedTerm term, DecodedXorbRange[] ranges, CancellationToken cancellationToken)
    {
        var range = ranges[term.RangeIndex];
        var chunks = term.Term.Chunks;
        var start = range.ChunkStart(chunks.Start);
        var end = range.ChunkEnd(chunks.End - 1);
        if (end - start != term.Term.UnpackedLength)
            throw new XetProtocolException(
                $"A term of '{_repoPath}' (xorb {term.Term.Xorb}, chunks {chunks}) claims {term.Term.UnpackedLength} bytes but its chunks hold {end - start}.");

        if (_verify)
        {
            var chunkFileStart = term.FileOffset;
            for (var c = chunks.Start; c < chunks.End; c++)
            {
                var length = range.ChunkEnd(c) - range.ChunkStart(c);
                // Each chunk is hashed by the segment it starts in: not before it (the previous segment did), not
                // after it (a server that does not trim trailing chunks would otherwise have them hashed twice).
                if (chunkFileStart >= term.HashFrom && chunkFileStart <= term.Segment.EndInclusive)
                {
                    if (chunkFileStart != _hashedEnd)
                        throw new XetProtocolException(
                            $"The chunks of '{_repoPath}' do not follow each other: a chunk starts at byte {chunkFileStart}, the previous ended at {_hashedEnd}.");
                    var hash = range.ChunkHashes![c - range.Chunks.Start];
                    _merkle.Add(hash, (ulong)length);
                    _journal.AddChunk(hash, length);
                    _hashedEnd = chunkFileStart + length;
                    _chunkEndsAhead.Enqueue(_hashedEnd);
                }
                chunkFileStart += length;
            }
        }

        if (term.KeepEnd > term.KeepStart)
        {
            if (term.KeepStart != Written)
                throw new XetProtocolException(
                    $"The terms of '{_repoPath}' do not follow each other: a term continues at byte {term.KeepStart}, {Written} were written.");
            var from = range.DataOffset + start + (int)(term.KeepStart - term.FileOffset);
            var count = (int)(term.KeepEnd - term.KeepStart);
            await WriteAtAsync(new ReadOnlyMemory<byte>(range.Data, from, count), term.KeepStart, cancellationToken).ConfigureAwait(false);
            Written = term.KeepEnd;
        }

        AdvanceCommittable();
        if (_committable - _lastCommit >= _commitEvery)
        {
#if !NET8_0_OR_GREATER
            await _file.FlushAsync(cancellationToken).ConfigureAwait(false);
#endif
            _journal.Commit(_committable);
            _lastCommit = _committable;
        }
    }

    /// <summary>
    /// Moves the committable length to the end of the last chunk that is whole in the file: the committed prefix is
    /// whole chunks, each recorded, and every byte of it is in the file (direct writes reach it a stage at a time).
    /// </summary>
    private void AdvanceCommittable()
    {
        var inFile = DurableEnd;
        if (_verify)
            while (_chunkEndsAhead.Count > 0 && _chunkEndsAhead.Peek() <= inFile) _committable = _chunkEndsAhead.Dequeue();
        else
            _committable = inFile;
    }

    /// <summary>Checks the whole file was written and (when verifying) hashes to its file id, then closes it.</summary>
    public async Task FinishAsync(CancellationToken cancellationToken)
    {
        if (Written != _size)
            throw new XetProtocolException($"The reconstruction of '{_repoPath}' produced {Written} bytes; the file has {_size}.");
        if (_verify)
        {
            var actual = _merkle.FinishFileHash();
            if (actual != _fileId)
            {
                Discard();
                throw new XetHashMismatchException(_repoPath, _fileId.ToString(), actual.ToString());
            }
        }
#if NET8_0_OR_GREATER
        if (_direct is not null)
        {
            await _direct.FinishAsync(_size, cancellationToken).ConfigureAwait(false);
            _direct.Dispose();
        }
#else
        await _file.FlushAsync(cancellationToken).ConfigureAwait(false);
#endif
        _finished = true; // no fsync here: the file's record says in which boot it was written (see BootSession)
        Close(); // the journal is deleted once the file is in place: its last flush failing cannot fail the file
    }

    private bool _finished;

    /// <summary>Forgets the partial file's progress (its bytes cannot be trusted): the next run starts afresh.</summary>
    public void Discard()
    {
        _discarded = true; // first: the caller deletes the partial and journal files whatever closing them does
        Close();
    }

    private bool _discarded;

    /// <summary>True when <see cref="Discard"/> ran (the caller deletes the partial and journal files).</summary>
    public bool Discarded => _discarded;

    public void Dispose()
    {
#if NET8_0_OR_GREATER
        _direct?.Dispose(); // first: the write in flight decides how much of the file is there
#endif
        try
        {
            if (!_discarded && !_finished)
            {
                AdvanceCommittable();
                if (_committable > _lastCommit) _journal.Commit(_committable);
            }
        }
        catch (Exception e) when (e is IOException or UnsafeWorkPathException)
        {
            // Best effort: an unrecorded tail is only downloaded again next time (and a journal made a link meanwhile
            // is refused again then).
        }
        Close();
    }

    /// <summary>
    /// Closes the direct writer, the journal and the partial file, each whatever the one before it did. This runs
    /// while the download's own error (or a hash mismatch) is on its way to the caller: a journal that cannot flush
    /// its last records (ENOSPC, EIO) must neither replace that error nor keep the partial file open. Losing those
    /// records is safe: the journal reads up to its last whole commit, so a rerun only downloads the tail again.
    /// </summary>
    private void Close()
    {
        try
        {
#if NET8_0_OR_GREATER
            _direct?.Dispose();
#endif
            _journal.Dispose(); // closes its file even when the final flush throws
        }
        catch (IOException)
        {
            // See above: best effort, never the error the caller sees.
        }
        finally
        {
            _file.Dispose();
        }
    }

    /// <summary>
    /// Bytes per write call. A term can be a whole xorb range (64 MiB): one write that large copies from memory the
    /// caches lost long ago and holds the file's lock for the whole copy; measured on Linux/ext4, 64 MiB writes into
    /// the page cache ran at 0.5-0.8 GB/s where 1 MiB writes of the same bytes ran at 3-5 GB/s. Smaller still pays on
    /// a VM that hands free memory back to its host (virtio-balloon free page reporting): the kernel sizes page-cache
    /// folios from the write, and large folios come from the large free blocks, the very ones handed back and slow to
    /// touch again. 2 GiB at a 64 MiB buffer, system seconds: 4 MiB writes 2.45-3.19, 1 MiB 1.29-1.95, 256 KiB
    /// 1.09-1.49; 128-512 KiB alike. 8,192 calls per 2 GiB cost nothing measurable.
    /// </summary>
    internal const int WriteSlice = 256 << 10;

    /// <summary>True when the bytes go past the page cache (<see cref="DirectFileWriter"/>).</summary>
    public bool WritesDirect =>
#if NET8_0_OR_GREATER
        _direct is not null;
#else
        false;
#endif

    /// <summary>End of the bytes that are in the file (direct writes lag <see cref="Written"/> by up to two stages).</summary>
    private long DurableEnd =>
#if NET8_0_OR_GREATER
        _direct?.Durable ?? Written;
#else
        Written;
#endif

    private async Task WriteAtAsync(ReadOnlyMemory<byte> data, long offset, CancellationToken cancellationToken)
    {
#if NET8_0_OR_GREATER
        if (_direct is not null)
        {
            await _direct.WriteAsync(data, cancellationToken).ConfigureAwait(false);
            return;
        }
        while (data.Length > 0)
        {
            var slice = data.Slice(0, Math.Min(data.Length, WriteSlice));
            await RandomAccess.WriteAsync(_file, slice, offset, cancellationToken).ConfigureAwait(false);
            data = data.Slice(slice.Length);
            offset += slice.Length;
        }
#else
        if (_file.Position != offset) _file.Position = offset;
        if (System.Runtime.InteropServices.MemoryMarshal.TryGetArray(data, out var segment))
            await _file.WriteAsync(segment.Array!, segment.Offset, segment.Count, cancellationToken).ConfigureAwait(false);
        else
            await _file.WriteAsync(data.ToArray(), 0, data.Length, cancellationToken).ConfigureAwait(false);
#endif
    }

    /// <summary>A verified prefix continues its journal in place; anything else starts a new one (committing an
    /// unverified kept prefix at once).</summary>
    private static ResumeJournal OpenJournal(string journalPath, XetHash fileId, long size, bool verify, long kept, long keptRecordsEnd) =>
        verify && kept > 0
            ? ResumeJournal.Continue(journalPath, keptRecordsEnd, kept)
            : ResumeJournal.Create(journalPath, fileId, size, verify, kept);

    /// <summary>
    /// Re-reads and re-hashes the committed prefix chunk by chunk against the journal, feeding each good chunk to
    /// <paramref name="merkle"/>; stops at the first chunk that is missing or damaged. Returns the bytes kept and the
    /// journal offset just past the last kept chunk's record. Memory stays constant whatever the prefix's size.
    /// </summary>
    private static (long Kept, long KeptRecordsEnd) VerifyPrefix(
#if NET8_0_OR_GREATER
        SafeFileHandle file,
#else
        FileStream file,
#endif
        ResumeJournal.State state, string journalPath, MerkleHashBuilder merkle, CancellationToken cancellationToken,
        Action<long>? verified, long checkEvery)
    {
        var available = Math.Min(state.CommittedLength, Length(file));
        var buffer = new byte[XorbChunkHeader.MaxUncompressedLength];
        long position = 0, recordsEnd = 0, nextCheck = checkEvery;
        ResumeJournal.ForEachChunk(journalPath, state.CommittedChunks, (hash, size, recordEnd) =>
        {
            if (position >= nextCheck)
            {
                cancellationToken.ThrowIfCancellationRequested();
                verified?.Invoke(position);
                nextCheck = position + checkEvery;
            }
            if (position + size > available) return false;
            ReadExactly(file, buffer, size, position);
            if (XetHashing.ChunkHash(buffer.AsSpan(0, size)) != hash) return false; // damaged from here on
            merkle.Add(hash, (ulong)size);
            position += size;
            recordsEnd = recordEnd;
            return true;
        });
        return (position, recordsEnd);
    }

#if NET8_0_OR_GREATER
    private static SafeFileHandle OpenPartial(string path) =>
        WorkFolder.OpenHandle(path, FileMode.OpenOrCreate, FileAccess.ReadWrite, FileShare.Read, FileOptions.Asynchronous);

    private static long Length(SafeFileHandle file) => RandomAccess.GetLength(file);

    private static void SetLength(SafeFileHandle file, long length) => RandomAccess.SetLength(file, length);

    private static void ReadExactly(SafeFileHandle file, byte[] buffer, int count, long offset) =>
        ReadExactly(file, buffer.AsSpan(0, count), offset);

    /// <summary>Reads exactly <paramref name="buffer"/>'s length at <paramref name="offset"/> (also the direct writer's read-back of a resumed block).</summary>
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
#else
    private static FileStream OpenPartial(string path) =>
        WorkFolder.OpenStream(path, FileMode.OpenOrCreate, FileAccess.ReadWrite, FileShare.Read, 1 << 16, FileOptions.Asynchronous);

    private static long Length(FileStream file) => file.Length;

    private static void SetLength(FileStream file, long length) => file.SetLength(length);

    private static void ReadExactly(FileStream file, byte[] buffer, int count, long offset)
    {
        file.Position = offset;
        var done = 0;
        while (done < count)
        {
            var n = file.Read(buffer, done, count - done);
            if (n <= 0) throw new EndOfStreamException("The partial file is shorter than its journal says.");
            done += n;
        }
    }
#endif
}
