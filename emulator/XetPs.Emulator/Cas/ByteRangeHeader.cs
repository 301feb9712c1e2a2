using System;
using System.Collections.Generic;
using System.Globalization;
using System.Text;

namespace XetPs.Emulator.Cas;

/// <summary>An inclusive byte range <c>[Start, End]</c>, the form HTTP Range headers and the protocol's
/// <c>bytes</c> fields use.</summary>
public readonly record struct InclusiveRange(long Start, long End)
{
    public long Length => End - Start + 1;
    public override string ToString() => $"{Start}-{End}";
}

/// <summary>
/// Parses <c>Range: bytes=...</c> headers: <c>S-E</c> (end inclusive), <c>S-</c> and the suffix form <c>-N</c>,
/// comma separated. Parsing keeps the client's order; <see cref="Resolve"/> clamps against a length. A header that is
/// not of this grammar is a format error, never silently ignored (the emulator must show client bugs).
/// </summary>
public static class ByteRangeHeader
{
    /// <summary>One range as written: <c>Start</c> or <c>End</c> may be null (open or suffix form).</summary>
    public readonly record struct Spec(long? Start, long? End);

    public static bool TryParse(string? header, out List<Spec> specs)
    {
        specs = new List<Spec>();
        if (string.IsNullOrWhiteSpace(header)) return false;
        string text = header!.Trim();
        if (!text.StartsWith("bytes=", StringComparison.OrdinalIgnoreCase)) return false;
        foreach (string raw in text.Substring(6).Split(','))
        {
            string part = raw.Trim();
            int dash = part.IndexOf('-');
            if (dash < 0) return false;
            string a = part.Substring(0, dash), b = part.Substring(dash + 1);
            long? start = null, end = null;
            if (a.Length > 0)
            {
                if (!long.TryParse(a, NumberStyles.None, CultureInfo.InvariantCulture, out long s)) return false;
                start = s;
            }
            if (b.Length > 0)
            {
                if (!long.TryParse(b, NumberStyles.None, CultureInfo.InvariantCulture, out long e)) return false;
                end = e;
            }
            if (start is null && end is null) return false;
            if (start is not null && end is not null && end < start) return false;
            specs.Add(new Spec(start, end));
        }
        return specs.Count > 0;
    }

    /// <summary>Resolves one spec against a resource of <paramref name="length"/> bytes: the end is clamped to the
    /// last byte; a start at or past the end (or an empty suffix) is unsatisfiable (null).</summary>
    public static InclusiveRange? Resolve(Spec spec, long length)
    {
        if (spec.Start is null)
        {
            long n = Math.Min(spec.End!.Value, length);
            if (n <= 0) return null;
            return new InclusiveRange(length - n, length - 1);
        }
        long start = spec.Start.Value;
        if (start >= length) return null;
        long end = spec.End is null ? length - 1 : Math.Min(spec.End.Value, length - 1);
        return new InclusiveRange(start, end);
    }

    /// <summary>The header value for a list of ranges, in the given order: <c>bytes=a-b,c-d</c>.</summary>
    public static string Format(IEnumerable<InclusiveRange> ranges)
    {
        var sb = new StringBuilder("bytes=");
        bool first = true;
        foreach (var r in ranges)
        {
            if (!first) sb.Append(',');
            sb.Append(r.Start.ToString(CultureInfo.InvariantCulture)).Append('-').Append(r.End.ToString(CultureInfo.InvariantCulture));
            first = false;
        }
        return sb.ToString();
    }
}
