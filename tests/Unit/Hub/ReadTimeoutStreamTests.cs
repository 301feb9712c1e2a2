using System;
using System.IO;
using System.Threading;
using System.Threading.Tasks;
using XetPs.Hub;

namespace XetPs.Tests.Hub;

/// <summary>The per-read timeout: silence fails the read as a transient I/O error, never as the caller's cancellation.</summary>
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
