namespace XetPs.Format;

/// <summary>
/// How one xorb chunk's data is stored (§3.3). Only these three values are ever serialized; xet-core's internal
/// <c>Auto</c> (99) and anything else is rejected by <see cref="XorbChunkHeader.Read"/>.
/// </summary>
public enum CompressionScheme : byte
{
    /// <summary>Raw bytes.</summary>
    None = 0,
    /// <summary>One LZ4 frame (magic 0x184D2204), not a raw LZ4 block.</summary>
    Lz4 = 1,
    /// <summary>An LZ4 frame of the <see cref="ByteGrouping4"/> split of the raw bytes.</summary>
    ByteGrouping4Lz4 = 2,
}
