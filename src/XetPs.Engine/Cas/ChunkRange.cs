namespace XetPs.Cas;

/// <summary>
/// A half-open range of chunk indices inside one xorb, <c>[Start, End)</c>, as the reconstruction API names it
/// (§2.2 <c>range: { start, end }</c>). Validation (0 &lt;= Start &lt; End) happens where the range is parsed.
/// </summary>
public readonly record struct ChunkRange(int Start, int End)
{
    /// <summary>The number of chunks in the range.</summary>
    public int Count => End - Start;

    /// <summary>True when <paramref name="other"/> lies entirely inside this range.</summary>
    public bool Contains(ChunkRange other) => other.Start >= Start && other.End <= End;

    public override string ToString() => $"[{Start}, {End})";
}
