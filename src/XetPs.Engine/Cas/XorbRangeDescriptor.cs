namespace XetPs.Cas;

/// <summary>
/// One byte range of a presigned xorb URL (§2.2 <c>fetch_info</c> / v2 <c>ranges</c>): the serialized bytes
/// <c>[ByteStart, ByteEndInclusive]</c> hold exactly the chunks <see cref="Chunks"/>. The end is inclusive, as in
/// the HTTP Range header the URL is fetched with.
/// </summary>
public sealed record XorbRangeDescriptor(ChunkRange Chunks, long ByteStart, long ByteEndInclusive)
{
    /// <summary>The number of raw (still compressed) bytes of the range.</summary>
    public long Length => ByteEndInclusive - ByteStart + 1;
}
