using System;
using System.Diagnostics;
using System.Globalization;
using System.IO;
using System.Threading;
using System.Threading.Tasks;

namespace XetPs.Hub;

/// <summary>
/// A response body that fails a read when the server goes silent or trickles: within every
/// <see cref="XetHttpOptions.ReadTimeout"/> of time spent waiting for it, the body must deliver at least
/// <see cref="XetHttpOptions.LowSpeedLimit"/> bytes per second of it (and at least one byte), so a silent server
/// cannot hang a download, nor one that sends a byte just before each read would time out, while a slow but moving one
/// may take as long as it needs. Only time inside a read counts: a caller busy writing what it read does not make the
/// server slow. Reports every byte read to the transport's <see cref="ITransferObserver"/>. Owns the response
/// (disposed with the stream). Invariant: a read ends with bytes, 0 at the end, <see cref="XetReadTimeoutException"/>
/// when the window ran out (naming the request, its host and the window), or <see cref="OperationCanceledException"/>
/// for the caller's own token; never a TaskCanceledException from the timer.
/// </summary>
internal sealed class ReadTimeoutStream : Stream
{
    private readonly Stream _inner;
    private readonly IDisposable _owner;
    private readonly TimeSpan _timeout;
    private readonly long _windowTicks;
    private readonly long _lowSpeedLimit;
    private readonly long _quota;
    private readonly string _what;
    private readonly ITransferObserver? _observer;
    private readonly CancellationTokenSource _timer = new();
    private readonly CancellationTokenRegistration _unblock;
    // The current window: Stopwatch ticks spent inside reads since it began, and the bytes they brought. A window
    // ends (and the next begins) as soon as its bytes reach the quota.
    private long _waitedTicks;
    private long _windowBytes;

    public ReadTimeoutStream(Stream inner, IDisposable owner, TimeSpan timeout, string what, long lowSpeedLimit = 0,
        ITransferObserver? observer = null)
    {
        _inner = inner;
        _owner = owner;
        _timeout = timeout;
        _windowTicks = (long)(timeout.TotalSeconds * Stopwatch.Frequency);
        _lowSpeedLimit = lowSpeedLimit;
        _quota = Math.Max(1, (long)Math.Ceiling(lowSpeedLimit * timeout.TotalSeconds));
        _what = what;
        _observer = observer;
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
        var left = _windowTicks - _waitedTicks;
        if (_timer.IsCancellationRequested || left <= 0) throw TooSlow(null);
        // One timer per stream, re-armed per read with what is left of the window.
        _timer.CancelAfter(TimeSpan.FromSeconds(Math.Max(left, 1) / (double)Stopwatch.Frequency));
        var linked = cancellationToken.CanBeCanceled ? CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, _timer.Token) : null;
        var started = Stopwatch.GetTimestamp();
        int read;
        try
        {
            var token = linked?.Token ?? _timer.Token;
#if NET8_0_OR_GREATER
            read = await _inner.ReadAsync(buffer, token).ConfigureAwait(false);
#else
            if (System.Runtime.InteropServices.MemoryMarshal.TryGetArray<byte>(buffer, out var segment))
            {
                read = await _inner.ReadAsync(segment.Array!, segment.Offset, segment.Count, token).ConfigureAwait(false);
            }
            else
            {
                var rented = System.Buffers.ArrayPool<byte>.Shared.Rent(buffer.Length);
                try
                {
                    read = await _inner.ReadAsync(rented, 0, buffer.Length, token).ConfigureAwait(false);
                    rented.AsSpan(0, read).CopyTo(buffer.Span);
                }
                finally
                {
                    System.Buffers.ArrayPool<byte>.Shared.Return(rented);
                }
            }
#endif
        }
        catch (Exception ex) when (_timer.IsCancellationRequested && !cancellationToken.IsCancellationRequested)
        {
            throw TooSlow(ex);
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
        _waitedTicks += Stopwatch.GetTimestamp() - started;
        _windowBytes += read;
        if (_windowBytes >= _quota)
        {
            _waitedTicks = 0;
            _windowBytes = 0;
        }
        if (read > 0) _observer?.Received(read);
        return read;
    }

    /// <summary>The window ran out: silence when it brought no byte, else a body slower than the floor.</summary>
    private XetReadTimeoutException TooSlow(Exception? inner)
    {
        var seconds = _timeout.TotalSeconds.ToString("0.###", CultureInfo.InvariantCulture);
        return _windowBytes == 0
            ? new XetReadTimeoutException($"No data received for {seconds} s while reading {_what}.", inner)
            : new XetReadTimeoutException(string.Format(CultureInfo.InvariantCulture,
                "{0} sent only {1} bytes in {2} s, slower than the low-speed limit of {3} bytes per second.",
                Capitalized(_what), _windowBytes, seconds, _lowSpeedLimit), inner);
    }

    private static string Capitalized(string text) =>
        text.Length > 0 && char.IsLower(text[0]) ? char.ToUpperInvariant(text[0]) + text.Substring(1) : text;

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
