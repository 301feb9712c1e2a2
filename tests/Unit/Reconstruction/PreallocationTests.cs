using System;
using System.IO;
using System.Linq;
using System.Threading.Tasks;
using XetPs.Reconstruction;

namespace XetPs.Tests.Reconstruction;

/// <summary>A partial file gets its blocks before its bytes: its length then says nothing of progress, the journal does.</summary>
public class PreallocationTests : IDisposable
{
    private readonly string _root = Path.Combine(Path.GetTempPath(), "xetps-prealloc-" + Guid.NewGuid().ToString("N"));

    public PreallocationTests() => Directory.CreateDirectory(_root);

    public void Dispose() => Directory.Delete(_root, recursive: true);

    [Fact]
    public void Allocating_past_a_written_prefix_gives_the_file_its_final_length_and_keeps_the_prefix()
    {
        var path = Path.Combine(_root, "partial");
        var prefix = Enumerable.Range(0, 5000).Select(i => (byte)(i * 7)).ToArray();
        File.WriteAllBytes(path, prefix);

        bool allocated;
        using (var file = File.OpenHandle(path, FileMode.Open, FileAccess.ReadWrite))
            allocated = Preallocation.TryAllocate(file, prefix.Length, 1 << 20);

        // Every Linux file system this runs on here (ext4, overlayfs, tmpfs) allocates; elsewhere nothing changes.
        Assert.Equal(OperatingSystem.IsLinux(), allocated);
        var bytes = File.ReadAllBytes(path);
        Assert.Equal(allocated ? prefix.Length + (1 << 20) : prefix.Length, bytes.Length);
        Assert.Equal(prefix, bytes.AsSpan(0, prefix.Length).ToArray());
        Assert.True(bytes.AsSpan(prefix.Length).IndexOfAnyExcept((byte)0) < 0, "allocated blocks read as zeros");
    }

    [Fact]
    public async Task An_unverified_download_cancelled_halfway_resumes_from_its_journal_not_from_its_preallocated_length()
    {
        using var f = new ReconstructionFixture();
        var (id, bytes, _) = f.SeedShape(seed: 31, xorbs: 6, chunksPerXorb: 20, terms: 120);
        f.Cas.MaxFetchDelayMs = 2;
        var options = ReconstructionFixture.Options(buffer: 256 * 1024, cas: 1, segment: 128 * 1024);
        options.JournalCommitInterval = 16 * 1024;
        options.Verify = false; // no chunk hashes to re-check the prefix: only the journal's committed length is trusted
        var destination = f.Destination();
        var session = ReconstructionFixture.Session(options);
        using (var cts = new System.Threading.CancellationTokenSource())
        {
            var progress = new Progress(p => { if (p.BytesWritten >= bytes.Length / 2) cts.Cancel(); });
            await Assert.ThrowsAnyAsync<OperationCanceledException>(() =>
                FileReconstructor.RunAsync(session, f.Cas, id, bytes.Length, "model.bin", destination, progress, cts.Token)
                    .WaitAsync(TimeSpan.FromSeconds(60)));
        }
        var partial = ResumeJournal.PartialPathFor(destination, "model.bin");
        var state = ResumeJournal.TryRead(ResumeJournal.JournalPathFor(destination, "model.bin"), id, bytes.Length);
        Assert.NotNull(state);
        if (OperatingSystem.IsLinux()) Assert.Equal(bytes.Length, new FileInfo(partial).Length);
        Assert.InRange(state!.CommittedLength, 1, bytes.Length - 1);

        var outcome = await f.RunAsync(ReconstructionFixture.Session(options), id, bytes.Length, destination).WaitAsync(TimeSpan.FromSeconds(60));

        Assert.True(outcome.Resumed);
        Assert.Equal(bytes, File.ReadAllBytes(destination));
    }

    /// <summary>Reports on the reporting thread.</summary>
    private sealed class Progress(Action<FileProgress> report) : IProgress<FileProgress>
    {
        public void Report(FileProgress value) => report(value);
    }
}
