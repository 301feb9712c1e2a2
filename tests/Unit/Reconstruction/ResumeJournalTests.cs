using System;
using System.IO;
using XetPs.Format;
using XetPs.Reconstruction;
using Xunit;

namespace XetPs.Tests.Reconstruction;

/// <summary>The resume journal on disk: written at its first commit, never left stale by a fresh start.</summary>
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
        using (var journal = ResumeJournal.Create(path, _fileId, 1000, withHashes: true, Array.Empty<(XetHash, int)>(), committed: 0))
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
        Assert.Equal(new[] { (first, 100), (second, 50) }, state.Chunks);
    }

    [Fact]
    public void Starting_afresh_removes_the_journal_an_earlier_run_left_so_its_commits_cannot_outlive_the_restart()
    {
        var path = Path.Combine(_root, "b.journal");
        using (var earlier = ResumeJournal.Create(path, _fileId, 1000, withHashes: false, Array.Empty<(XetHash, int)>(), committed: 0))
            earlier.Commit(600);
        Assert.NotNull(ResumeJournal.TryRead(path, _fileId, 1000));

        using var restart = ResumeJournal.Create(path, _fileId, 1000, withHashes: false, Array.Empty<(XetHash, int)>(), committed: 0);

        Assert.False(File.Exists(path));
        Assert.Null(ResumeJournal.TryRead(path, _fileId, 1000));
    }
}
