using System;
using System.IO;
using System.Threading;
using System.Threading.Tasks;
using XetPs.Hub;

namespace XetPs.Tests.Hub;

/// <summary>
/// The read timeout and the low-speed limit: silence, or fewer bytes than the limit over a read timeout of waiting,
/// fails the read as a transient I/O error naming the body and the window, never as the caller's cancellation.
/// </summary>
public class ReadTimeoutStreamTests
{
    [Fact]
    public async Task A_read_with_no_byte_for_the_timeout_fails_with_a_read_timeout()
    {
        var silent = new SilentStream();
        using var stream = new ReadTimeoutStream(silent, silent, TimeSpan.FromMilliseconds(50), "the silent server");
        var ex = await Assert.ThrowsAsync<XetReadTimeoutException>(() => stream.ReadCoreAsync(new byte[10], CancellationToken.None).AsTask());
        Assert.Contains("the silent server", ex.Message);
        Assert.True(XetHttpTransport.IsTransient(ex));
    }

    [Fact]
    public async Task The_callers_cancellation_surfaces_as_cancellation_for_its_token()
    {
        var silent = new SilentStream();
        using var stream = new ReadTimeoutStream(silent, silent, TimeSpan.FromMinutes(5), "the silent server");
        using var cts = new CancellationTokenSource();
        var read = stream.ReadCoreAsync(new byte[10], cts.Token).AsTask();
        cts.Cancel();
        var ex = await Assert.ThrowsAnyAsync<OperationCanceledException>(() => read);
        Assert.Equal(cts.Token, ex.CancellationToken);
        Assert.False(XetHttpTransport.IsTransient(ex));
    }

    [Fact]
    public async Task Bytes_that_keep_coming_are_read_whatever_the_total_time()
    {
        var data = new byte[64];
        new Random(7).NextBytes(data);
        var inner = new MemoryStream(data);
        using var stream = new ReadTimeoutStream(inner, inner, TimeSpan.FromSeconds(30), "test");
        var copy = new MemoryStream();
        await stream.CopyToAsync(copy);
        Assert.Equal(data, copy.ToArray());
    }

    [Fact]
    public async Task A_body_slower_than_the_low_speed_limit_fails_naming_it_and_the_window()
    {
        // A byte every 20 ms never leaves a read waiting for the timeout (300 ms): the old per-read timeout let it
        // run for ever. 50 bytes per second is under a limit of 1000.
        var trickle = new TrickleStream(TimeSpan.FromMilliseconds(20));
        using var stream = new ReadTimeoutStream(trickle, trickle, TimeSpan.FromMilliseconds(300), "the fetch of xorb 12ab (cdn.example:443)", lowSpeedLimit: 1000);

        var ex = await Assert.ThrowsAsync<XetReadTimeoutException>(() => stream.CopyToAsync(Stream.Null));

        Assert.Matches(@"^The fetch of xorb 12ab \(cdn\.example:443\) sent only \d+ bytes in 0\.3 s, slower than the low-speed limit of 1000 bytes per second\.$", ex.Message);
        Assert.True(XetHttpTransport.IsTransient(ex));
        Assert.InRange(trickle.Served, 1, 300 - 1);
    }

    [Fact]
    public async Task A_slow_body_above_the_low_speed_limit_is_read_to_its_end()
    {
        var trickle = new TrickleStream(TimeSpan.FromMilliseconds(2), length: 200);
        using var stream = new ReadTimeoutStream(trickle, trickle, TimeSpan.FromMilliseconds(300), "test", lowSpeedLimit: 10);
        var copy = new MemoryStream();

        await stream.CopyToAsync(copy);

        Assert.Equal(200, copy.Length);
    }

    [Fact]
    public async Task Time_the_reader_spends_between_reads_is_not_held_against_the_server()
    {
        // A caller busy writing to a slow disk reads rarely; the server is judged only while a read waits for it.
        var data = new byte[40];
        var inner = new MemoryStream(data);
        using var stream = new ReadTimeoutStream(inner, inner, TimeSpan.FromMilliseconds(100), "test", lowSpeedLimit: 1_000_000);
        var buffer = new byte[4];

        var total = 0;
        for (int n; (n = await stream.ReadCoreAsync(buffer, CancellationToken.None)) > 0;)
        {
            total += n;
            await Task.Delay(30); // 300 ms of the reader's own time in all, three windows
        }

        Assert.Equal(data.Length, total);
    }

    [Fact]
    public async Task Every_byte_read_is_reported_to_the_observer()
    {
        var data = new byte[10_000];
        var inner = new MemoryStream(data);
        var observer = new CountingObserver();
        using var stream = new ReadTimeoutStream(inner, inner, TimeSpan.FromSeconds(30), "test", observer: observer);

        await stream.CopyToAsync(Stream.Null, 1000);

        Assert.Equal(data.Length, observer.Bytes);
    }

    private sealed class CountingObserver : ITransferObserver
    {
        public long Bytes { get; private set; }

        public void Received(long bytes) => Bytes += bytes;

        public ITransferOperation Started(string operation) => throw new NotSupportedException();
    }

    /// <summary>A body that sends one byte per interval, up to a length (unbounded by default).</summary>
    private sealed class TrickleStream(TimeSpan interval, long length = long.MaxValue) : Stream
    {
        public long Served { get; private set; }
        public override bool CanRead => true;
        public override bool CanSeek => false;
        public override bool CanWrite => false;
        public override long Length => throw new NotSupportedException();
        public override long Position { get => throw new NotSupportedException(); set => throw new NotSupportedException(); }
        public override void Flush() { }
        public override int Read(byte[] buffer, int offset, int count) => throw new NotSupportedException();
        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
        public override void SetLength(long value) => throw new NotSupportedException();
        public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();

        public override async ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken ct = default)
        {
            if (Served >= length || buffer.Length == 0) return 0;
            await Task.Delay(interval, ct);
            buffer.Span[0] = 7;
            Served++;
            return 1;
        }
    }

    /// <summary>A body that never sends a byte and honours only cancellation.</summary>
    private sealed class SilentStream : Stream
    {
        public override bool CanRead => true;
        public override bool CanSeek => false;
        public override bool CanWrite => false;
        public override long Length => throw new NotSupportedException();
        public override long Position { get => throw new NotSupportedException(); set => throw new NotSupportedException(); }
        public override void Flush() { }
        public override int Read(byte[] buffer, int offset, int count) => throw new NotSupportedException();
        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
        public override void SetLength(long value) => throw new NotSupportedException();
        public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();

        public override async ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken ct = default)
        {
            await Task.Delay(Timeout.Infinite, ct);
            return 0;
        }
    }
}
