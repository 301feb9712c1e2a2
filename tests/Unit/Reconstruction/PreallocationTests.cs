using System;
using System.IO;
using System.Linq;
using XetPs.Reconstruction;

namespace XetPs.Tests.Reconstruction;

/// <summary>
/// A partial file gets its blocks before its bytes: its length then says nothing of progress, the journal does
/// (FileReconstructorTests.An_unverified_download_cancelled_halfway_resumes_from_its_journal_not_from_its_preallocated_length).
/// </summary>
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
}
