using System;
using System.Buffers;
using System.Collections.Generic;
using System.IO;
using System.Text;
using System.Threading;
using System.Threading.Tasks;
using XetPs.Hub;

namespace XetPs.Cas;

/// <summary>
/// Streams a <c>multipart/byteranges</c> body (RFC 7233 §4.1; §2.4) into the destination of a fetch: each part's
/// Content-Range is matched to the descriptor(s) it answers and its bytes land at that descriptor's place in the
/// destination (descriptors back to back, in order). Parts may come in any order; a part may cover a run of adjacent
/// descriptors (a server may coalesce them). Part headers go through one pooled scratch buffer; part bodies are read
/// straight into the destination. Invariant: on success every destination byte was written exactly once by a part
/// whose range matched; a short body is an <see cref="IOException"/> (truncated, transient), anything inconsistent
/// a <see cref="XetProtocolException"/>.
/// </summary>
internal sealed class MultipartByteRanges : IDisposable
{
    private const int ScratchSize = 16 * 1024;
    private const int MaxLine = 4096, MaxHeaderLines = 32, MaxPreambleLines = 64;

    private readonly ReadTimeoutStream _body;
    private readonly string _delimiter;
    private readonly string _what;
    private byte[] _scratch;
    private int _start, _end;
    private readonly IProgress<long>? _received; // hears the part bytes copied so far, after each read
    private long _copied;

    private MultipartByteRanges(ReadTimeoutStream body, string boundary, string what, IProgress<long>? received)
    {
        _received = received;
        _body = body;
        _delimiter = "--" + boundary;
        _what = what;
        _scratch = ArrayPool<byte>.Shared.Rent(ScratchSize);
    }

    public static async Task ReadAsync(ReadTimeoutStream body, string boundary, XorbFetch fetch, Memory<byte> destination,
        string what, CancellationToken ct, IProgress<long>? received = null)
    {
        using var reader = new MultipartByteRanges(body, boundary, what, received);
        await reader.ReadPartsAsync(fetch, destination, ct).ConfigureAwait(false);
    }

    private async Task ReadPartsAsync(XorbFetch fetch, Memory<byte> destination, CancellationToken ct)
    {
        var ranges = fetch.Ranges;
        var offsets = new long[ranges.Count];
        for (var i = 1; i < ranges.Count; i++) offsets[i] = offsets[i - 1] + ranges[i - 1].Length;
        var filled = new bool[ranges.Count];
        var remaining = ranges.Count;

        // Preamble: anything before the first delimiter is ignored (RFC 2046), within bounds.
        for (var line = 0; ; line++)
        {
            if (line >= MaxPreambleLines) throw Bad("has no multipart delimiter where the first part should start.");
            var text = await ReadLineAsync(ct).ConfigureAwait(false);
            if (text.TrimEnd() == _delimiter) break;
        }

        while (true)
        {
            var (from, to) = await ReadPartHeadersAsync(ct).ConfigureAwait(false);
            var first = IndexOfStart(ranges, from);
            if (first < 0) throw Bad($"sent a part for bytes {from}-{to}, which starts no requested range.");
            var last = first;
            while (ranges[last].ByteEndInclusive < to && last + 1 < ranges.Count &&
                   ranges[last + 1].ByteStart == ranges[last].ByteEndInclusive + 1)
                last++;
            if (ranges[last].ByteEndInclusive != to)
                throw Bad($"sent a part for bytes {from}-{to}, which does not match the requested range {ranges[first].ByteStart}-{ranges[first].ByteEndInclusive}.");
            for (var i = first; i <= last; i++)
            {
                if (filled[i]) throw Bad($"sent bytes {ranges[i].ByteStart}-{ranges[i].ByteEndInclusive} twice.");
                filled[i] = true;
                remaining--;
            }
            var length = to - from + 1;
            await CopyAsync(destination.Slice(checked((int)offsets[first]), checked((int)length)), ct).ConfigureAwait(false);

            // After the body: CRLF, then the next delimiter or the closing one.
            string next;
            var blank = 0;
            while (true)
            {
                next = (await ReadLineAsync(ct).ConfigureAwait(false)).TrimEnd();
                if (next.Length != 0) break;
                if (++blank > 2) throw Bad("has blank lines where a multipart delimiter should follow a part.");
            }
            if (next == _delimiter + "--") break;
            if (next != _delimiter) throw Bad($"has '{Clip(next)}' after a part where a multipart delimiter should be (a part longer than its Content-Range?).");
        }
        if (remaining != 0)
        {
            var missing = Array.IndexOf(filled, false);
            throw Bad($"ended without the part for bytes {ranges[missing].ByteStart}-{ranges[missing].ByteEndInclusive}.");
        }
    }

    private async Task<(long From, long To)> ReadPartHeadersAsync(CancellationToken ct)
    {
        long? from = null, to = null;
        for (var i = 0; ; i++)
        {
            if (i >= MaxHeaderLines) throw Bad("has a part with too many header lines.");
            var line = await ReadLineAsync(ct).ConfigureAwait(false);
            if (line.Length == 0) break;
            var colon = line.IndexOf(':');
            if (colon <= 0 || !line.Substring(0, colon).Trim().Equals("Content-Range", StringComparison.OrdinalIgnoreCase)) continue;
            if (!TryParseContentRange(line.Substring(colon + 1), out var f, out var t))
                throw Bad($"has a part with an unreadable Content-Range '{Clip(line)}'.");
            from = f;
            to = t;
        }
        if (from is null || to is null) throw Bad("has a part without a Content-Range.");
        return (from.Value, to.Value);
    }

    /// <summary>"bytes S-E/TOTAL" (TOTAL may be '*'), with 0 &lt;= S &lt;= E.</summary>
    internal static bool TryParseContentRange(string value, out long from, out long to)
    {
        from = to = -1;
        var text = value.Trim();
        if (!text.StartsWith("bytes ", StringComparison.OrdinalIgnoreCase)) return false;
        text = text.Substring(6).Trim();
        var slash = text.IndexOf('/');
        if (slash >= 0) text = text.Substring(0, slash);
        var dash = text.IndexOf('-');
        if (dash <= 0) return false;
        return long.TryParse(text.Substring(0, dash), System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out from)
            && long.TryParse(text.Substring(dash + 1), System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out to)
            && from <= to;
    }

    private static int IndexOfStart(IReadOnlyList<XorbRangeDescriptor> ranges, long start)
    {
        int lo = 0, hi = ranges.Count - 1;
        while (lo <= hi)
        {
            var mid = (lo + hi) >> 1;
            var s = ranges[mid].ByteStart;
            if (s == start) return mid;
            if (s < start) lo = mid + 1; else hi = mid - 1;
        }
        return -1;
    }

    /// <summary>Copies exactly destination.Length body bytes: what the scratch holds, then straight from the stream.</summary>
    private async Task CopyAsync(Memory<byte> destination, CancellationToken ct)
    {
        var buffered = Math.Min(_end - _start, destination.Length);
        _scratch.AsMemory(_start, buffered).CopyTo(destination);
        _start += buffered;
        var written = buffered;
        _copied += buffered;
        _received?.Report(_copied);
        while (written < destination.Length)
        {
            var n = await _body.ReadCoreAsync(destination.Slice(written), ct).ConfigureAwait(false);
            if (n == 0) throw Truncated();
            written += n;
            _copied += n;
            _received?.Report(_copied);
        }
    }

    /// <summary>One CRLF- (or LF-) terminated ASCII line, without the terminator.</summary>
    private async Task<string> ReadLineAsync(CancellationToken ct)
    {
        while (true)
        {
            var newline = Array.IndexOf(_scratch, (byte)'\n', _start, _end - _start);
            if (newline >= 0)
            {
                var length = newline - _start;
                if (length > 0 && _scratch[newline - 1] == (byte)'\r') length--;
                var line = Encoding.ASCII.GetString(_scratch, _start, length);
                _start = newline + 1;
                return line;
            }
            if (_end - _start >= MaxLine) throw Bad($"has a line longer than {MaxLine} bytes where multipart headers should be.");
            if (_start > 0)
            {
                Buffer.BlockCopy(_scratch, _start, _scratch, 0, _end - _start);
                _end -= _start;
                _start = 0;
            }
            var n = await _body.ReadCoreAsync(_scratch.AsMemory(_end, _scratch.Length - _end), ct).ConfigureAwait(false);
            if (n == 0) throw Truncated();
            _end += n;
        }
    }

    private IOException Truncated() => new($"The multipart answer of {_what} ended early (truncated response).");

    private XetProtocolException Bad(string detail) => new($"The multipart answer of {_what} {detail}");

    private static string Clip(string text) => text.Length <= 60 ? text : text.Substring(0, 60) + "...";

    public void Dispose()
    {
        var scratch = _scratch;
        _scratch = Array.Empty<byte>();
        if (scratch.Length > 0) ArrayPool<byte>.Shared.Return(scratch);
    }
}
