using System;
using System.Collections.Generic;
using System.IO;
using System.Threading;
using System.Threading.Tasks;
using Microsoft.Extensions.Logging;
using XetPs.Format;

namespace XetPs.Reconstruction;

/// <summary>
/// Writes one file's terms, in file order, into its <see cref="PartialFile"/>, feeds the chunk hash of every chunk it
/// writes to the file's merkle builder, and journals progress for resume. Owned by one file's writer task.
/// Invariants: the file is written whole chunks at a time, from its first byte on, each chunk exactly once and from
/// the very bytes whose chunk hash entered the merkle builder, so the file hash is computed over exactly the bytes that
/// reach the file (segment boundaries, resumes and direct writes included); bytes a term serves again that the file
/// already holds are never written, and the chunk served for them must be the one written (<see cref="RecentChunks"/>);
/// the journal commits only lengths that are in the file and end on a recorded chunk. The destination is never touched
/// here.
/// </summary>
internal sealed class SequentialWriter : IDisposable
{
    private readonly string _repoPath;
    private readonly XetHash _fileId;
    private readonly long _size;
    private readonly bool _verify;
    private readonly MerkleHashBuilder _merkle;
    private readonly ResumeJournal _journal;
    private readonly PartialFile _file;
    private readonly RecentChunks _recent = new();
    private readonly WrittenTerms? _terms;
    private readonly Queue<long> _chunkEndsAhead = new(); // ends of hashed chunks not yet in the file
    private readonly long _commitEvery;
    private long _committable;
    private long _lastCommit;
    private bool _finished;
    private bool _discarded;

    private SequentialWriter(string repoPath, XetHash fileId, long size, bool verify, ResumeJournal journal, PartialFile file,
        long resumedFrom, MerkleHashBuilder merkle, long commitEvery)
    {
        _commitEvery = commitEvery;
        _repoPath = repoPath;
        _fileId = fileId;
        _size = size;
        _verify = verify;
        _terms = verify ? new WrittenTerms(fileId, size) : null;
        _journal = journal;
        _file = file;
        Written = _lastCommit = _committable = ResumedFrom = resumedFrom;
        _merkle = merkle; // holds the resumed prefix's chunks already
    }

    /// <summary>Bytes of the file written so far (including the resumed prefix): the write frontier.</summary>
    public long Written { get; private set; }

    /// <summary>Length kept from an earlier run (0 when starting afresh).</summary>
    public long ResumedFrom { get; }

    /// <summary>True when the bytes go past the page cache (<see cref="DirectFileWriter"/>).</summary>
    public bool WritesDirect => _file.WritesDirect;

    /// <summary>True when <see cref="Discard"/> ran (the caller deletes the partial and journal files).</summary>
    public bool Discarded => _discarded;

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
        Action<long>? prefixVerified = null, long prefixCheckEvery = 64L << 20) =>
        Open(WorkFiles.Beside(destinationPath, repoPath), repoPath, fileId, size, verify, commitEvery, logger, directWriteMinimum, directStages,
            cancellationToken, prefixVerified, prefixCheckEvery);

    /// <summary>As above, with the partial file and journal at <paramref name="work"/>; a partial whose length must stay
    /// its written prefix (<see cref="WorkFiles.LengthIsWritten"/>) is neither preallocated nor written directly.</summary>
    public static SequentialWriter Open(WorkFiles work, string repoPath, XetHash fileId, long size, bool verify, long commitEvery, ILogger? logger,
        long directWriteMinimum = -1, DirectWriteStages? directStages = null, CancellationToken cancellationToken = default,
        Action<long>? prefixVerified = null, long prefixCheckEvery = 64L << 20)
    {
        var partialPath = work.Partial;
        var journalPath = work.Journal;
        work.Prepare();
        var state = File.Exists(partialPath) ? ResumeJournal.TryRead(journalPath, fileId, size) : null;
        if (state is not null && verify && !state.HasHashes) state = null; // cannot prove the prefix: start afresh
        // A prefix that will not be re-hashed (an unverified run) is trusted only if its journal was written in this boot:
        // across a restart, the bytes it vouches for may never have reached the disk (no fsync; see BootSession).
        if (state is not null && !verify && File.GetLastWriteTimeUtc(journalPath) < BootSession.StartedAtUtc) state = null;

        var file = PartialFile.Open(partialPath);
        try
        {
            long kept = 0, keptRecordsEnd = 0;
            var merkle = new MerkleHashBuilder();
            if (state is not null)
            {
                if (state.HasHashes && verify)
                    (kept, keptRecordsEnd) = VerifyPrefix(file, state, journalPath, merkle, cancellationToken, prefixVerified, prefixCheckEvery);
                else kept = Math.Min(state.CommittedLength, file.Length);
                if (kept > 0)
                    logger?.LogInformation("Resuming {Path} from byte {Offset} of {Size}", repoPath, kept, size);
            }
            // Only when it changes anything: on ext4 a truncation to 0 marks the file for a synchronous flush of all
            // its delayed allocations at close (auto_da_alloc), a cost paid at the end of every download.
            if (file.Length != kept) file.SetLength(kept);
            if (directWriteMinimum >= 0 && directStages is not null && size - kept >= directWriteMinimum && !work.LengthIsWritten)
            {
                var direct = file.TryWriteDirect(kept, directStages);
                logger?.LogDebug(direct ? "Writing {Path} with direct I/O" : "Writing {Path} through the page cache (no direct I/O here, or two files write directly already)",
                    repoPath);
            }
            if (!file.WritesDirect && !work.LengthIsWritten) file.Preallocate(kept, size - kept);
            var journal = OpenJournal(journalPath, fileId, size, verify, kept, keptRecordsEnd);
            return new SequentialWriter(repoPath, fileId, size, verify, journal, file, kept, merkle, commitEvery);
        }
        catch
        {
            file.Dispose();
            throw;
        }
    }

    /// <summary>
    /// Writes the chunks of <paramref name="term"/> that the file does not hold yet, whole, and hashes exactly those;
    /// checks the chunks it serves for bytes already written against the chunks written there. Returns the bytes
    /// written. <paramref name="ranges"/> is the decoded block the term's chunks are in.
    /// </summary>
    public Task<long> WriteTermAsync(PlannedTerm term, DecodedXorbRange[] ranges, CancellationToken cancellationToken)
    {
        var range = ranges[term.RangeIndex];
        var chunks = term.Term.Chunks;
        var termStart = range.ChunkStart(chunks.Start);
        if (range.ChunkEnd(chunks.End - 1) - termStart != term.Term.UnpackedLength)
            throw new XetProtocolException(
                $"A term of '{_repoPath}' (xorb {term.Term.Xorb}, chunks {chunks}) claims {term.Term.UnpackedLength} bytes but its chunks hold {range.ChunkEnd(chunks.End - 1) - termStart}.");
        var first = chunks.Start - range.Chunks.Start;
        return WriteChunksAsync(new ChunkBatch(range.Data, range.DataOffset, range.ChunkEnds, first, chunks.Count, range.ChunkHashes,
            term.Term.Xorb, chunks.Start, term.FileOffset), cancellationToken);
    }

    /// <summary>
    /// Writes the chunks of <paramref name="term"/> the file lacks from <paramref name="copy"/>, where
    /// <paramref name="earlier"/> says they sit, hashing each one as read (the same rules as fetched chunks: a damaged
    /// copy fails the file's hash). Reads at most a scratch buffer's worth at a time, so memory does not grow with the
    /// term. Returns the bytes written.
    /// </summary>
    public async Task<long> WriteEarlierTermAsync(PlannedTerm term, EarlierChunks earlier, EarlierCopy copy, CancellationToken cancellationToken)
    {
        _scratch ??= new byte[ScratchSize];
        _scratchEnds ??= new int[ScratchSize / XorbChunkHeader.Size];
        _scratchHashes ??= new XetHash[_scratchEnds.Length];
        long written = 0, fileStart = term.FileOffset;
        var count = earlier.Offsets.Length;
        for (var i = 0; i < count;)
        {
            // A slice: chunks that follow each other in the copy, up to the scratch buffer.
            var n = 0;
            var bytes = 0;
            while (i + n < count && bytes + earlier.Lengths[i + n] <= ScratchSize &&
                   (n == 0 || earlier.Offsets[i + n] == earlier.Offsets[i] + bytes))
            {
                bytes += earlier.Lengths[i + n];
                _scratchEnds[n] = bytes;
                n++;
            }
            copy.Read(_scratch, bytes, earlier.Offsets[i], cancellationToken);
            if (_verify)
                for (var j = 0; j < n; j++)
                    _scratchHashes[j] = XetHashing.ChunkHash(_scratch.AsSpan(j == 0 ? 0 : _scratchEnds[j - 1], earlier.Lengths[i + j]));
            written += await WriteChunksAsync(new ChunkBatch(_scratch, 0, _scratchEnds, 0, n, _verify ? _scratchHashes : null,
                term.Term.Xorb, term.Term.Chunks.Start + i, fileStart), cancellationToken).ConfigureAwait(false);
            fileStart += bytes;
            i += n;
        }
        BytesReused += written;
        return written;
    }

    /// <summary>Bytes of the file read from an earlier copy rather than fetched.</summary>
    public long BytesReused { get; private set; }

    /// <summary>Where the file's chunks sit, when verifying (see <see cref="WrittenTerms"/>); null otherwise.</summary>
    public WrittenTerms? Terms => _terms;

    /// <summary>Bytes read from an earlier copy at a time: whole chunks of up to 128 KiB each.</summary>
    private const int ScratchSize = 1 << 20;

    private byte[]? _scratch;
    private int[]? _scratchEnds;
    private XetHash[]? _scratchHashes;

    /// <summary>
    /// Chunks back to back in <paramref name="Data"/>: chunk j (of <paramref name="Count"/>) ends at
    /// <paramref name="DataOffset"/> + Ends[First + j] and starts where the one before it ends (at DataOffset when
    /// First + j is 0), with hash Hashes[First + j]; it is chunk <paramref name="FirstChunk"/> + j of
    /// <paramref name="Xorb"/>, and the first one starts at file byte <paramref name="FileStart"/>.
    /// </summary>
    private readonly record struct ChunkBatch(byte[] Data, int DataOffset, int[] Ends, int First, int Count, XetHash[]? Hashes,
        XetHash Xorb, int FirstChunk, long FileStart)
    {
        public int Start(int j) => First + j == 0 ? 0 : Ends[First + j - 1];

        public int Length(int j) => Ends[First + j] - Start(j);
    }

    /// <summary>
    /// Places each chunk of <paramref name="batch"/> at its file position: a chunk the file already holds is checked
    /// against the one written there; the chunks from the write frontier on are hashed and written, as one write; any
    /// other position is a protocol error. Returns the bytes written.
    /// </summary>
    private async Task<long> WriteChunksAsync(ChunkBatch batch, CancellationToken cancellationToken)
    {
        // The chunks the file lacks form one run from the write frontier on: [writeFrom, frontier) of the file, taken
        // from the batch's bytes at dataFrom.
        var frontier = Written;
        long writeFrom = -1;
        var dataFrom = 0;
        var chunkFileStart = batch.FileStart;
        for (var j = 0; j < batch.Count; j++)
        {
            var length = batch.Length(j);
            var chunkFileEnd = chunkFileStart + length;
            if (chunkFileEnd <= Written)
                CheckServedAgain(batch.Hashes?[batch.First + j], chunkFileStart, length);
            else if (chunkFileStart == frontier || (!_verify && chunkFileStart < frontier && writeFrom < 0))
            {
                // Unverified runs may resume mid-chunk (their journal commits any written length): only such a chunk's
                // tail is written. A verifying run writes and hashes whole chunks only.
                if (chunkFileEnd > _size)
                    throw new XetProtocolException($"A term of '{_repoPath}' (xorb {batch.Xorb}) runs past the file's end: byte {chunkFileEnd} of {_size}.");
                if (writeFrom < 0)
                {
                    writeFrom = frontier;
                    dataFrom = batch.Start(j) + (int)(frontier - chunkFileStart);
                }
                if (_verify) Hash(batch.Hashes![batch.First + j], batch.Xorb, batch.FirstChunk + j, chunkFileStart, length);
                frontier = chunkFileEnd;
            }
            else
            {
                throw new XetProtocolException(chunkFileStart < frontier
                    ? $"The chunks of '{_repoPath}' do not line up: a chunk of xorb {batch.Xorb} spans bytes {chunkFileStart}-{chunkFileEnd - 1}, the file's chunks end at byte {frontier}."
                    : $"The terms of '{_repoPath}' do not follow each other: a chunk starts at byte {chunkFileStart}, {frontier} were written.");
            }
            chunkFileStart = chunkFileEnd;
        }

        if (writeFrom < 0) return 0;
        var count = (int)(frontier - writeFrom);
        await _file.WriteAsync(new ReadOnlyMemory<byte>(batch.Data, batch.DataOffset + dataFrom, count), writeFrom, cancellationToken).ConfigureAwait(false);
        Written = frontier;
        AdvanceCommittable();
        if (_committable - _lastCommit >= _commitEvery)
        {
            await _file.FlushToOsAsync(cancellationToken).ConfigureAwait(false);
            _journal.Commit(_committable);
            _lastCommit = _committable;
        }
        return count;
    }

    /// <summary>Feeds one chunk about to be written to the merkle builder, the journal and the file's chunk map.</summary>
    private void Hash(XetHash hash, XetHash xorb, int chunk, long start, int length)
    {
        _merkle.Add(hash, (ulong)length);
        _journal.AddChunk(hash, length);
        _recent.Add(start, length, hash);
        _terms?.Add(xorb, chunk, start, length);
        _chunkEndsAhead.Enqueue(start + length);
    }

    /// <summary>
    /// A chunk served for bytes the file already holds: it is not written again, and must be the chunk written there.
    /// Unverified runs hash nothing, so they cannot tell and only skip it.
    /// </summary>
    private void CheckServedAgain(XetHash? hash, long start, int length)
    {
        if (hash is not { } served || start < _recent.OldestStart) return;
        if (!_recent.TryFind(start, out var writtenLength, out var written))
            throw new XetProtocolException(
                $"The chunks of '{_repoPath}' do not line up: an answer places a chunk at byte {start}, where the file has no chunk boundary.");
        if (writtenLength == length && written == served) return;
        Discard(); // which of the two copies is wrong cannot be told: nothing written so far is kept
        throw new XetHashMismatchException(_repoPath, start, Math.Max(length, writtenLength), written.ToString(), served.ToString());
    }

    /// <summary>
    /// Moves the committable length to the end of the last chunk that is whole in the file: the committed prefix is
    /// whole chunks, each recorded, and every byte of it is in the file (direct writes reach it a stage at a time).
    /// </summary>
    private void AdvanceCommittable()
    {
        var inFile = _file.DurableEnd(Written);
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
        await _file.FinishAsync(_size, cancellationToken).ConfigureAwait(false);
        _finished = true; // no fsync here: the file's record says in which boot it was written (see BootSession)
        Close(); // the journal is deleted once the file is in place: its last flush failing cannot fail the file
    }

    /// <summary>Forgets the partial file's progress (its bytes cannot be trusted): the next run starts afresh.</summary>
    public void Discard()
    {
        _discarded = true; // first: the caller deletes the partial and journal files whatever closing them does
        Close();
    }

    public void Dispose()
    {
        _file.EndDirectWrites(); // first: the write in flight decides how much of the file is there
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
    /// Closes the journal and the partial file, each whatever the one before it did. This runs while the download's
    /// own error (or a hash mismatch) is on its way to the caller: a journal that cannot flush its last records
    /// (ENOSPC, EIO) must neither replace that error nor keep the partial file open. Losing those records is safe: the
    /// journal reads up to its last whole commit, so a rerun only downloads the tail again.
    /// </summary>
    private void Close()
    {
        try
        {
            _file.EndDirectWrites();
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
    private static (long Kept, long KeptRecordsEnd) VerifyPrefix(PartialFile file, ResumeJournal.State state, string journalPath,
        MerkleHashBuilder merkle, CancellationToken cancellationToken, Action<long>? verified, long checkEvery)
    {
        var available = Math.Min(state.CommittedLength, file.Length);
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
            file.ReadExactly(buffer, size, position);
            if (XetHashing.ChunkHash(buffer.AsSpan(0, size)) != hash) return false; // damaged from here on
            merkle.Add(hash, (ulong)size);
            position += size;
            recordsEnd = recordEnd;
            return true;
        });
        return (position, recordsEnd);
    }
}
