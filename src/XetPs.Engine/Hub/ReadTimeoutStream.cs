using System;
using System.IO;
using System.Threading;
using System.Threading.Tasks;

namespace XetPs.Hub;

/// <summary>
/// A response body that fails a read when no byte arrives for the read timeout, so a silent server cannot hang a
/// download while a slow but moving one may take as long as it needs. Owns the response (disposed with the stream).
/// Invariant: a read ends with bytes, 0 at the end, <see cref="XetReadTimeoutException"/> when the timer fired, or
/// <see cref="OperationCanceledException"/> for the caller's own token; never a TaskCanceledException from the timer.
/// </summary>
internal sealed class ReadTimeoutStream : Stream
{
    private readonly Stream _inner;
    private readonly IDisposable _owner;
    private readonly TimeSpan _timeout;
    private readonly string _what;
    private readonly CancellationTokenSource _timer = new();
    private readonly CancellationTokenRegistration _unblock;

    public ReadTimeoutStream(Stream inner, IDisposable owner, TimeSpan timeout, string what)
    {
        _inner = inner;
        _owner = owner;
        _timeout = timeout;
        _what = what;
        // Some stacks (.NET Framework's handler) ignore the token on a body read: disposing the body unblocks them.
        _unblock = _timer.Token.Register(static state => ((Stream)state!).Dispose(), inner);
    }

    public override bool CanRead => true;
    public override bool CanSeek => false;
    public override bool CanWrite => false;
    public override long Length => throw new NotSupportedException();
    public override long Position { get => throw new NotSupportedException(); set => throw new NotSupportedException(); }

    public override int Read(byte[] buffer, int offset, int count) =>
        ReadAsync(buffer, offset, count, CancellationToken.None).GetAwaiter().GetResult();

    public override Task<int> ReadAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
        ReadCoreAsync(new Memory<byte>(buffer, offset, count), cancellationToken).AsTask();

#if NET8_0_OR_GREATER
    public override ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default) =>
        ReadCoreAsync(buffer, cancellationToken);
#endif

    /// <summary>Reads with the timeout; same contract as <see cref="Stream.ReadAsync(byte[], int, int, CancellationToken)"/>.</summary>
    public async ValueTask<int> ReadCoreAsync(Memory<byte> buffer, CancellationToken cancellationToken)
    {
        cancellationToken.ThrowIfCancellationRequested();
        if (_timer.IsCancellationRequested)
            throw new XetReadTimeoutException($"No data received for {_timeout.TotalSeconds:0.###} s while reading {_what}.");
        // One timer per stream, re-armed per read: a read that gets any byte within the timeout is fine.
        _timer.CancelAfter(_timeout);
        var linked = cancellationToken.CanBeCanceled ? CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, _timer.Token) : null;
        try
        {
            var token = linked?.Token ?? _timer.Token;
#if NET8_0_OR_GREATER
            return await _inner.ReadAsync(buffer, token).ConfigureAwait(false);
#else
            if (System.Runtime.InteropServices.MemoryMarshal.TryGetArray<byte>(buffer, out var segment))
                return await _inner.ReadAsync(segment.Array!, segment.Offset, segment.Count, token).ConfigureAwait(false);
            var rented = System.Buffers.ArrayPool<byte>.Shared.Rent(buffer.Length);
            try
            {
                var n = await _inner.ReadAsync(rented, 0, buffer.Length, token).ConfigureAwait(false);
                rented.AsSpan(0, n).CopyTo(buffer.Span);
                return n;
            }
            finally
            {
                System.Buffers.ArrayPool<byte>.Shared.Return(rented);
            }
#endif
        }
        catch (Exception ex) when (_timer.IsCancellationRequested && !cancellationToken.IsCancellationRequested)
        {
            throw new XetReadTimeoutException(
                $"No data received for {_timeout.TotalSeconds:0.###} s while reading {_what}.", ex);
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            cancellationToken.ThrowIfCancellationRequested();
            throw;
        }
        finally
        {
            linked?.Dispose();
            if (!_timer.IsCancellationRequested) _timer.CancelAfter(Timeout.Infinite);
        }
    }

    public override void Flush() { }
    public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
    public override void SetLength(long value) => throw new NotSupportedException();
    public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();

    protected override void Dispose(bool disposing)
    {
        if (disposing)
        {
            _unblock.Dispose();
            _timer.Dispose();
            _inner.Dispose();
            _owner.Dispose();
        }
        base.Dispose(disposing);
    }
}
