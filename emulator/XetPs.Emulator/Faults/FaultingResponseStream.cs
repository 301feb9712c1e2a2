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
/// body-level part of a fault: paced writes (throughput cap), a stall after N bytes, corrupted bytes, a reset after N
/// bytes (write N bytes, flush, abort the connection) and a truncation after N bytes (write N bytes and end the
/// handler: Kestrel closes the connection short of the declared Content-Length). Invariant: with a reset or truncate
/// fault, exactly min(N, body) body bytes are handed to Kestrel, and nothing after them.
/// </summary>
internal sealed class FaultingResponseStream : Stream
{
    private readonly Stream _inner;
    private readonly HttpContext _context;
    private readonly FaultRule? _rule;
    private readonly Stopwatch _clock = Stopwatch.StartNew();
    private bool _stalled;

    /// <summary>Time between the last byte before a cut and the abort.</summary>
    internal static readonly TimeSpan AbortGrace = TimeSpan.FromMilliseconds(150);

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

    /// <summary>True when a fault ended the body short of its Content-Length (the connection closes after it).</summary>
    public bool Truncated { get; private set; }

    public override async ValueTask WriteAsync(ReadOnlyMemory<byte> buffer, CancellationToken cancellationToken = default)
    {
        if (Aborted || Truncated) throw new FaultAbortException("The body was already cut by a fault.");
        if (_rule is null)
        {
            NotifyIfCompleting(buffer.Length);
            await _inner.WriteAsync(buffer, cancellationToken).ConfigureAwait(false);
            BytesWritten += buffer.Length;
            return;
        }
        long? cut = _rule.ResetAfterBytes ?? _rule.TruncateAfterBytes;
        bool truncate = _rule.ResetAfterBytes is null && _rule.TruncateAfterBytes is not null;
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
                await CutAsync(truncate, cancellationToken).ConfigureAwait(false);
            if (_rule.ThroughputBytesPerSecond is long rate)
            {
                // Paced writes: a slice leaves only once rate * elapsed covers it, so N bytes take at least N / rate.
                double due = (BytesWritten + take) / (double)rate;
                double ahead = due - _clock.Elapsed.TotalSeconds;
                if (ahead > 0) await Task.Delay(TimeSpan.FromSeconds(ahead), cancellationToken).ConfigureAwait(false);
            }
            await WriteSliceAsync(buffer.Slice(0, take), cancellationToken).ConfigureAwait(false);
            buffer = buffer.Slice(take);
        }
        if (cut is long end && BytesWritten >= end)
            await CutAsync(truncate, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>
    /// Ends the body here. Truncate: stop writing and let the handler end, so Kestrel sees fewer bytes than the
    /// Content-Length and closes the connection after sending what was written (deterministic: exactly N bytes).
    /// Reset: abort the connection.
    /// </summary>
    private async Task CutAsync(bool truncate, CancellationToken ct)
    {
        if (truncate)
        {
            Truncated = true;
            throw new FaultAbortException($"Body truncated by fault after {BytesWritten} bytes.");
        }
        await AbortAsync(ct).ConfigureAwait(false);
        throw new FaultAbortException($"Connection aborted by fault after {BytesWritten} bytes.");
    }

    /// <summary>Called once, just before the write that completes the declared Content-Length, with that length:
    /// the server logs the request then, so a client that has read the whole body always finds it in the log.</summary>
    public Action<long>? Completing { get; set; }

    private void NotifyIfCompleting(int count)
    {
        if (Completing is null || _context.Response.ContentLength is not long total || BytesWritten + count < total) return;
        var notify = Completing;
        Completing = null;
        notify(total);
    }

    private async ValueTask WriteSliceAsync(ReadOnlyMemory<byte> slice, CancellationToken ct)
    {
        NotifyIfCompleting(slice.Length);
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
        // The bytes before the cut must reach the client before the connection drops. A flush only hands them to
        // Kestrel's transport pipe; an abort right away can discard what the socket has not taken yet, so give the
        // transport a moment to write them out first.
        try
        {
            await _inner.FlushAsync(ct).ConfigureAwait(false);
            await Task.Delay(AbortGrace, ct).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is IOException or OperationCanceledException or InvalidOperationException) { }
        _context.Abort();
    }

    public override Task WriteAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
        WriteAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();

    public override void Write(byte[] buffer, int offset, int count) =>
        throw new NotSupportedException("Synchronous writes are not used by the emulator.");

    public override Task FlushAsync(CancellationToken cancellationToken) =>
        Aborted || Truncated ? Task.CompletedTask : _inner.FlushAsync(cancellationToken);

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
