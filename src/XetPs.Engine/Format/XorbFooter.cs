namespace XetPs.Format;

/// <summary>
/// Layout constants of the V1 xorb footer (<c>XorbObjectInfoV1</c>, §3.4) shared by the writer and the parser.
/// All integers little-endian, hashes raw. The footer is 92 + 40n bytes, followed by its own length as a u32.
/// </summary>
internal static class XorbFooter
{
    public const byte Version = 1, HashesVersion = 0, BoundariesVersion = 1;
    public const int NonceLength = 16;

    public static System.ReadOnlySpan<byte> Ident => "XETBLOB"u8;
    public static System.ReadOnlySpan<byte> HashesIdent => "XBLBHSH"u8;
    public static System.ReadOnlySpan<byte> BoundariesIdent => "XBLBBND"u8;

    /// <summary>info_length: the footer without the trailing u32 that holds this value.</summary>
    public static int InfoLength(int chunks) => 92 + 40 * chunks;

    /// <summary>From the start of "XBLBHSH" to the end of the nonce buffer.</summary>
    public static int HashesOffsetFromEnd(int chunks) => 52 + 40 * chunks;

    /// <summary>From the start of "XBLBBND" to the end of the nonce buffer.</summary>
    public static int BoundariesOffsetFromEnd(int chunks) => 40 + 8 * chunks;
}
