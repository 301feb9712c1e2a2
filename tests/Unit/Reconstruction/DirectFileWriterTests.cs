using System;
using System.IO;
using System.Runtime.InteropServices;
using System.Threading.Tasks;
using Microsoft.Win32.SafeHandles;
using XetPs.Reconstruction;

namespace XetPs.Tests.Reconstruction;

/// <summary>
/// Writes past the page cache: whole aligned blocks from aligned stages, the last block padded and cut, a resumed file
/// continuing mid-block, and an honest account of what reached the file when a run stops early. These specifications
/// run where the scratch folder's file system does direct I/O (ext4 on the machines we test on); elsewhere the first
/// assertion says why.
/// </summary>
public sealed class DirectFileWriterTests : IDisposable
{
    private const int Stage = 64 * 1024;
    private readonly string _root = Path.Combine(Path.GetTempPath(), "xetps-direct-" + Guid.NewGuid().ToString("N"));
    private readonly DirectWriteStages _stages = new(Stage);

    public DirectFileWriterTests() => Directory.CreateDirectory(_root);

    public void Dispose() => Directory.Delete(_root, recursive: true);

    private (string Path, SafeFileHandle Buffered, DirectFileWriter Direct) Open(long position = 0, byte[]? head = null)
    {
        var path = Path.Combine(_root, "model.bin.incomplete");
        if (head is not null) File.WriteAllBytes(path, head);
        var buffered = File.OpenHandle(path, FileMode.OpenOrCreate, FileAccess.ReadWrite, FileShare.Read);
        var direct = DirectFileWriter.TryOpen(path, buffered, position, _stages);
        Assert.True(direct is not null,
            $"{Path.GetTempPath()} reports no direct-I/O alignment (statx STATX_DIOALIGN: {DirectFileWriter.DirectIoAlignment(path)}); these specifications need a file system that does direct I/O");
        return (path, buffered, direct!);
    }

    private static byte[] RandomBytes(int length, int seed)
    {
        var bytes = new byte[length];
        new Random(seed).NextBytes(bytes);
        return bytes;
    }

    [Fact]
    public async Task Bytes_written_in_odd_pieces_reach_the_file_exactly_and_the_last_block_is_cut_to_the_file_length()
    {
        var bytes = RandomBytes(5 * Stage + 12_345, seed: 1);
        var (path, buffered, direct) = Open();
        var random = new Random(2);
        for (var at = 0; at < bytes.Length;)
        {
            var n = Math.Min(random.Next(1, 3 * Stage / 2), bytes.Length - at);
            await direct.WriteAsync(bytes.AsMemory(at, n), default);
            at += n;
            Assert.Equal(at, direct.Position);
            Assert.True(direct.Durable <= direct.Position);
            Assert.Equal(0, direct.Durable % direct.Alignment);
        }
        await direct.FinishAsync(bytes.Length, default);
        direct.Dispose();
        buffered.Dispose();

        Assert.Equal(bytes.Length, direct.Durable);
        Assert.Equal(bytes, File.ReadAllBytes(path));
        Assert.Equal(0, _stages.Rented);
    }

    [Fact]
    public async Task A_resumed_file_continues_in_the_middle_of_a_block_and_keeps_its_head()
    {
        var bytes = RandomBytes(3 * Stage + 777, seed: 3);
        const int kept = 5000; // not a multiple of any block size
        var (path, buffered, direct) = Open(kept, bytes.AsSpan(0, kept).ToArray());

        Assert.Equal(kept, direct.Position);
        Assert.Equal(kept - kept % direct.Alignment, direct.Durable);
        await direct.WriteAsync(bytes.AsMemory(kept), default);
        await direct.FinishAsync(bytes.Length, default);
        direct.Dispose();
        buffered.Dispose();

        Assert.Equal(bytes, File.ReadAllBytes(path));
    }

    [Fact]
    public async Task Stopping_early_leaves_whole_written_stages_in_the_file_and_durable_names_exactly_them()
    {
        var bytes = RandomBytes(4 * Stage + Stage / 2, seed: 4);
        var (path, buffered, direct) = Open();
        await direct.WriteAsync(bytes, default);
        direct.Dispose(); // an error or cancellation elsewhere: no FinishAsync
        buffered.Dispose();

        Assert.Equal(4 * Stage, direct.Durable); // the half stage never left memory
        Assert.Equal(0, _stages.Rented);          // back to the session once no write reads them
        var file = File.ReadAllBytes(path);
        Assert.True(file.Length >= direct.Durable);
        Assert.Equal(bytes.AsSpan(0, (int)direct.Durable).ToArray(), file.AsSpan(0, (int)direct.Durable).ToArray());
    }

    [Fact]
    public async Task Finishing_at_a_length_other_than_what_was_written_is_refused()
    {
        var (_, buffered, direct) = Open();
        await direct.WriteAsync(RandomBytes(1000, seed: 5), default);

        var error = await Assert.ThrowsAsync<InvalidOperationException>(() => direct.FinishAsync(2000, default));
        Assert.Contains("1000", error.Message);
        direct.Dispose();
        buffered.Dispose();
    }

    [Fact]
    public void At_most_two_files_write_directly_at_once_and_a_returned_set_of_stages_is_reused()
    {
        var first = _stages.TryRent();
        var second = _stages.TryRent();

        Assert.NotNull(first);
        Assert.NotNull(second);
        Assert.Null(_stages.TryRent()); // a third file writes through the page cache
        _stages.Return(first!);
        var third = _stages.TryRent();
        Assert.Same(first, third);
        Assert.All(third!, stage => Assert.Equal(Stage, stage.Length));
        _stages.Return(second!);
        _stages.Return(third!);
        Assert.Throws<InvalidOperationException>(() => _stages.Return(third!));
    }

    [Fact]
    public void Stages_start_on_an_aligned_address_so_the_device_can_read_them_directly()
    {
        var set = _stages.TryRent()!;
        try
        {
            foreach (var stage in set)
            {
                Assert.True(MemoryMarshal.TryGetArray<byte>(stage, out var segment));
                var address = Marshal.UnsafeAddrOfPinnedArrayElement(segment.Array!, segment.Offset); // a pinned array
                Assert.Equal(0, address.ToInt64() % DirectWriteStages.Alignment);
            }
        }
        finally
        {
            _stages.Return(set);
        }
    }

    [Fact]
    public async Task A_third_file_opened_while_two_write_directly_gets_no_direct_writer()
    {
        var (_, buffered1, direct1) = Open();
        var path2 = Path.Combine(_root, "b.incomplete");
        var path3 = Path.Combine(_root, "c.incomplete");
        using var buffered2 = File.OpenHandle(path2, FileMode.OpenOrCreate, FileAccess.ReadWrite, FileShare.Read);
        using var buffered3 = File.OpenHandle(path3, FileMode.OpenOrCreate, FileAccess.ReadWrite, FileShare.Read);
        var direct2 = DirectFileWriter.TryOpen(path2, buffered2, 0, _stages);

        Assert.NotNull(direct2);
        Assert.Null(DirectFileWriter.TryOpen(path3, buffered3, 0, _stages));
        await direct1.WriteAsync(new byte[10], default);
        direct1.Dispose();
        buffered1.Dispose();
        using var direct3 = DirectFileWriter.TryOpen(path3, buffered3, 0, _stages); // the first file's stages are free again
        Assert.NotNull(direct3);
        direct2!.Dispose();
    }

    [Fact]
    public void A_file_system_that_reports_no_direct_io_alignment_gets_no_direct_writer()
    {
        // procfs answers statx but has no direct I/O: the caller keeps writing through the page cache.
        Assert.Equal(0, DirectFileWriter.DirectIoAlignment("/proc/self/status"));
        Assert.Equal(0, DirectFileWriter.DirectIoAlignment(Path.Combine(_root, "no such file")));
    }
}
