using XetPs.Format;

namespace XetPs.Cas;

/// <summary>
/// One term of a file reconstruction (§2.2): the decompressed bytes of chunks <see cref="Chunks"/> of xorb
/// <see cref="Xorb"/>, in file order. Invariant (checked by the parser): <c>0 &lt; UnpackedLength &lt;=
/// 128 KiB * Chunks.Count</c>, so a lying length can never make the pipeline reserve more than the chunks can hold.
/// </summary>
public sealed record ReconstructionTerm(XetHash Xorb, ChunkRange Chunks, int UnpackedLength);
