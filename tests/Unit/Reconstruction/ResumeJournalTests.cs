using System;
using System.Collections.Generic;
using System.IO;
using XetPs.Format;
using XetPs.Reconstruction;
using Xunit;

namespace XetPs.Tests.Reconstruction;

/// <summary>The resume journal on disk: written at its first commit, never left stale by a fresh start, read and
/// continued without holding its records.</summary>
public sealed class ResumeJournalTests : IDisposable
{
    private readonly string _root = Path.Combine(Path.GetTempPath(), "xetps-journal-" + Guid.NewGuid().ToString("N"));
    private readonly XetHash _fileId = XetHashing.ChunkHash(new byte[] { 1, 2, 3 });

    public ResumeJournalTests() => Directory.CreateDirectory(_root);

    public void Dispose() => Directory.Delete(_root, recursive: true);

    [Fact]
    public void A_journal_reaches_the_disk_only_at_its_first_commit_with_every_record_before_it()
    {
        var path = Path.Combine(_root, "a.journal");
        var first = XetHashing.ChunkHash(new byte[] { 4 });
        var second = XetHashing.ChunkHash(new byte[] { 5 });
        using (var journal = ResumeJournal.Create(path, _fileId, 1000, withHashes: true, committed: 0))
        {
            journal.AddChunk(first, 100);
            journal.AddChunk(second, 50);
            Assert.False(File.Exists(path)); // a download that ends before its first commit leaves nothing behind
            Assert.False(journal.Created);

            journal.Commit(150);

            Assert.True(journal.Created);
        }

        var state = ResumeJournal.TryRead(path, _fileId, 1000);
        Assert.NotNull(state);
        Assert.Equal(150, state!.CommittedLength);
        Assert.True(state.HasHashes);
        Assert.Equal(2, state.CommittedChunks);
        Assert.Equal(new[] { (first, 100), (second, 50) }, Chunks(path, 2));
    }

    [Fact]
    public void A_commit_that_is_not_a_chunk_boundary_ends_what_the_journal_vouches_for()
    {
        var path = Path.Combine(_root, "c.journal");
        using (var journal = ResumeJournal.Create(path, _fileId, 1000, withHashes: true, committed: 0))
        {
            journal.AddChunk(Hash(1), 100);
            journal.AddChunk(Hash(2), 50);
            journal.Commit(100); // the first chunk: a boundary, though the second is recorded already
            journal.Commit(150);
            journal.AddChunk(Hash(3), 70);
            journal.Commit(200); // 220 would be the boundary
            journal.AddChunk(Hash(4), 30);
            journal.Commit(250);
        }

        var state = ResumeJournal.TryRead(path, _fileId, 1000)!;

        Assert.Equal((150L, 2), (state.CommittedLength, state.CommittedChunks));
    }

    [Fact]
    public void Continuing_cuts_the_records_after_the_last_kept_chunk_and_commits_its_end()
    {
        var path = Path.Combine(_root, "d.journal");
        using (var journal = ResumeJournal.Create(path, _fileId, 1000, withHashes: true, committed: 0))
        {
            for (var i = 1; i <= 4; i++) journal.AddChunk(Hash(i), 100);
            journal.Commit(400);
        }
        // The partial file's third chunk turned out damaged: only two chunks are kept.
        long secondRecordEnd = 0;
        ResumeJournal.ForEachChunk(path, 2, (_, _, end) => { secondRecordEnd = end; return true; });

        using (var continued = ResumeJournal.Continue(path, secondRecordEnd, committed: 200))
        {
            continued.AddChunk(Hash(9), 100);
            continued.Commit(300);
        }

        var state = ResumeJournal.TryRead(path, _fileId, 1000)!;
        Assert.Equal((300L, 3), (state.CommittedLength, state.CommittedChunks));
        Assert.Equal(new[] { (Hash(1), 100), (Hash(2), 100), (Hash(9), 100) }, Chunks(path, 3));
    }

    private static XetHash Hash(int i) => XetHashing.ChunkHash(new[] { (byte)i });

    private static List<(XetHash, int)> Chunks(string path, int count)
    {
        var chunks = new List<(XetHash, int)>();
        ResumeJournal.ForEachChunk(path, count, (hash, size, _) => { chunks.Add((hash, size)); return true; });
        return chunks;
    }

    [Fact]
    public void Starting_afresh_removes_the_journal_an_earlier_run_left_so_its_commits_cannot_outlive_the_restart()
    {
        var path = Path.Combine(_root, "b.journal");
        using (var earlier = ResumeJournal.Create(path, _fileId, 1000, withHashes: false, committed: 0))
            earlier.Commit(600);
        Assert.NotNull(ResumeJournal.TryRead(path, _fileId, 1000));

        using var restart = ResumeJournal.Create(path, _fileId, 1000, withHashes: false, committed: 0);

        Assert.False(File.Exists(path));
        Assert.Null(ResumeJournal.TryRead(path, _fileId, 1000));
    }
}
