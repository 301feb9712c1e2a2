namespace XetPs.Format;

/// <summary>
/// One node of the Xet merkle tree (PROTOCOL.md §5.3): a chunk (its chunk hash and uncompressed length) or an
/// aggregated node (its internal node hash and the total bytes beneath it).
/// </summary>
public readonly record struct MerkleNode(XetHash Hash, ulong Size);
