using System;
using System.Buffers;
using System.Diagnostics;
using System.IO;
using System.Threading;
using System.Threading.Tasks;
using Microsoft.AspNetCore.Http;

namespace XetPs.Emulator.Faults;

/// <summary>Thrown inside a handler after a fault aborted the connection, so the handler stops writing.</summary>
internal sealed class FaultAbortException : Exception
{
    public FaultAbortException(string message) : base(message) { }
}

/// <summary>
/// The response body of every request: counts the bytes that reach Kestrel (for the request log) and applies the
/// body-level part of a fault: paced writes (throughput cap), a stall after N bytes, corrupted bytes, and a reset or
/// truncation after N bytes (write exactly N bytes, flush, abort the connection). Invariant: with a reset or
/// truncate fault, exactly min(N, body) body bytes are written before the abort.
/// </summary>
internal sealed class FaultingResponseStream : Stream
{
    private readonly Stream _inner;
    private readonly HttpContext _context;
    private readonly FaultRule? _rule;
    private readonly Stopwatch _clock = Stopwatch.StartNew();
    private bool _stalled;

    public FaultingResponseStream(Stream inner, HttpContext context, FaultRule? rule)
    {
        _inner = inner;
        _context = context;
        _rule = rule;
    }

    /// <summary>Body bytes handed to Kestrel so far.</summary>
    public long BytesWritten { get; private set; }

    /// <summary>True when a fault aborted the connection.</summary>
    public bool Aborted { get; private set; }

    public override async ValueTask WriteAsync(ReadOnlyMemory<byte> buffer, CancellationToken cancellationToken = default)
    {
        if (Aborted) throw new FaultAbortException("The connection was aborted by a fault.");
        if (_rule is null)
        {
            await _inner.WriteAsync(buffer, cancellationToken).ConfigureAwait(false);
            BytesWritten += buffer.Length;
            return;
        }
        long? cut = _rule.ResetAfterBytes ?? _rule.TruncateAfterBytes;
        while (buffer.Length > 0)
        {
            int take = buffer.Length;
            if (cut is long c) take = (int)Math.Min(take, Math.Max(0, c - BytesWritten));
            if (_rule.StallAfterBytes is long sa && !_stalled && BytesWritten < sa) take = (int)Math.Min(take, sa - BytesWritten);
            if (_rule.ThroughputBytesPerSecond is long bps) take = (int)Math.Min(take, Math.Max(1, bps / 20));

            if (_rule.StallAfterBytes is long stallAt && !_stalled && BytesWritten == stallAt)
            {
                _stalled = true;
                await _inner.FlushAsync(cancellationToken).ConfigureAwait(false);
                await Task.Delay(_rule.StallDuration!.Value, cancellationToken).ConfigureAwait(false);
                continue;
            }
            if (cut is long limit && BytesWritten >= limit)
            {
                await AbortAsync(cancellationToken).ConfigureAwait(false);
                throw new FaultAbortException($"Connection aborted by fault after {BytesWritten} bytes.");
            }
            await WriteSliceAsync(buffer.Slice(0, take), cancellationToken).ConfigureAwait(false);
            buffer = buffer.Slice(take);
            if (_rule.ThroughputBytesPerSecond is long rate)
            {
                // Paced writes: never ahead of rate * elapsed.
                double due = BytesWritten / (double)rate;
                double ahead = due - _clock.Elapsed.TotalSeconds;
                if (ahead > 0) await Task.Delay(TimeSpan.FromSeconds(ahead), cancellationToken).ConfigureAwait(false);
            }
        }
        if (cut is long end && BytesWritten >= end)
        {
            await AbortAsync(cancellationToken).ConfigureAwait(false);
            throw new FaultAbortException($"Connection aborted by fault after {BytesWritten} bytes.");
        }
    }

    private async ValueTask WriteSliceAsync(ReadOnlyMemory<byte> slice, CancellationToken ct)
    {
        if (_rule!.CorruptAtByte is long at && at >= BytesWritten && at < BytesWritten + slice.Length)
        {
            byte[] copy = ArrayPool<byte>.Shared.Rent(slice.Length);
            try
            {
                slice.Span.CopyTo(copy);
                copy[at - BytesWritten] ^= 0xFF;
                await _inner.WriteAsync(copy.AsMemory(0, slice.Length), ct).ConfigureAwait(false);
            }
            finally { ArrayPool<byte>.Shared.Return(copy); }
        }
        else
        {
            await _inner.WriteAsync(slice, ct).ConfigureAwait(false);
        }
        BytesWritten += slice.Length;
    }

    private async Task AbortAsync(CancellationToken ct)
    {
        if (Aborted) return;
        Aborted = true;
        // The bytes before the cut must reach the client before the connection drops.
        try { await _inner.FlushAsync(ct).ConfigureAwait(false); }
        catch (Exception ex) when (ex is IOException or OperationCanceledException or InvalidOperationException) { }
        _context.Abort();
    }

    public override Task WriteAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
        WriteAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();

    public override void Write(byte[] buffer, int offset, int count) =>
        throw new NotSupportedException("Synchronous writes are not used by the emulator.");

    public override Task FlushAsync(CancellationToken cancellationToken) =>
        Aborted ? Task.CompletedTask : _inner.FlushAsync(cancellationToken);

    public override void Flush() { }
    public override bool CanRead => false;
    public override bool CanSeek => false;
    public override bool CanWrite => true;
    public override long Length => throw new NotSupportedException();
    public override long Position { get => BytesWritten; set => throw new NotSupportedException(); }
    public override int Read(byte[] buffer, int offset, int count) => throw new NotSupportedException();
    public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
    public override void SetLength(long value) => throw new NotSupportedException();
}
