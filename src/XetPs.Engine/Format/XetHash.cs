using System;
using System.Buffers.Binary;
using System.Runtime.CompilerServices;

namespace XetPs.Format;

/// <summary>
/// A 32-byte Xet hash (chunk, xorb, file or verification hash), PROTOCOL.md §5.
/// Invariant: the raw bytes are held as four little-endian u64 words (<c>w0</c> = bytes 0..7, …), never as an
/// array, so the type copies, compares and hashes without allocating. The string form (§5.5) prints each word as
/// <c>%016x</c>, which is why the text looks byte-reversed per 8-byte block.
/// </summary>
public readonly struct XetHash : IEquatable<XetHash>
{
    public const int Size = 32;

    private readonly ulong _w0, _w1, _w2, _w3;

    private XetHash(ulong w0, ulong w1, ulong w2, ulong w3)
    {
        _w0 = w0; _w1 = w1; _w2 = w2; _w3 = w3;
    }

    public XetHash(ReadOnlySpan<byte> raw)
    {
        if (raw.Length != Size)
            throw new ArgumentException($"A Xet hash is exactly {Size} raw bytes; got {raw.Length}.", nameof(raw));
        _w0 = BinaryPrimitives.ReadUInt64LittleEndian(raw);
        _w1 = BinaryPrimitives.ReadUInt64LittleEndian(raw.Slice(8));
        _w2 = BinaryPrimitives.ReadUInt64LittleEndian(raw.Slice(16));
        _w3 = BinaryPrimitives.ReadUInt64LittleEndian(raw.Slice(24));
    }

    /// <summary>All zero bytes: the hash of an empty chunk list (§5.2).</summary>
    public static XetHash Zero => default;

    /// <summary>Builds a hash from its four little-endian words (word 0 holds raw bytes 0..7).</summary>
    internal static XetHash FromWords(ulong w0, ulong w1, ulong w2, ulong w3) => new(w0, w1, w2, w3);

    internal ulong Word0 => _w0;
    internal ulong Word1 => _w1;
    internal ulong Word2 => _w2;
    internal ulong Word3 => _w3;

    public void CopyTo(Span<byte> destination)
    {
        if (destination.Length < Size)
            throw new ArgumentException($"The destination holds {destination.Length} bytes; a Xet hash needs {Size}.", nameof(destination));
        BinaryPrimitives.WriteUInt64LittleEndian(destination, _w0);
        BinaryPrimitives.WriteUInt64LittleEndian(destination.Slice(8), _w1);
        BinaryPrimitives.WriteUInt64LittleEndian(destination.Slice(16), _w2);
        BinaryPrimitives.WriteUInt64LittleEndian(destination.Slice(24), _w3);
    }

    public byte[] ToArray()
    {
        var bytes = new byte[Size];
        CopyTo(bytes);
        return bytes;
    }

    /// <summary>§5.3: the last 8 raw bytes read as a little-endian u64, modulo <paramref name="m"/>.</summary>
    public ulong Modulo(ulong m)
    {
        if (m == 0)
            throw new ArgumentOutOfRangeException(nameof(m), "The modulus must be positive.");
        return _w3 % m;
    }

    /// <summary>§5.5 string form: 64 lowercase hex digits, each u64 word printed big-endian.</summary>
    public override string ToString()
    {
        var chars = new char[64];
        WriteWord(chars, 0, _w0);
        WriteWord(chars, 16, _w1);
        WriteWord(chars, 32, _w2);
        WriteWord(chars, 48, _w3);
        return new string(chars);
    }

    /// <summary>Writes the §5.5 string form as ASCII into <paramref name="destination"/> (64 bytes), for hash inputs.</summary>
    internal void WriteHexAscii(Span<byte> destination)
    {
        WriteWordAscii(destination, _w0);
        WriteWordAscii(destination.Slice(16), _w1);
        WriteWordAscii(destination.Slice(32), _w2);
        WriteWordAscii(destination.Slice(48), _w3);
    }

    private const string HexDigits = "0123456789abcdef";

    private static void WriteWord(char[] chars, int offset, ulong word)
    {
        for (int i = 15; i >= 0; i--)
        {
            chars[offset + i] = HexDigits[(int)(word & 0xF)];
            word >>= 4;
        }
    }

    private static void WriteWordAscii(Span<byte> destination, ulong word)
    {
        for (int i = 15; i >= 0; i--)
        {
            destination[i] = (byte)HexDigits[(int)(word & 0xF)];
            word >>= 4;
        }
    }

    /// <summary>Parses the §5.5 string form (64 hex digits, either case).</summary>
    /// <exception cref="FormatException">The text is not 64 hex digits; the message quotes it.</exception>
    public static XetHash Parse(string text)
    {
        if (text is null)
            throw new ArgumentNullException(nameof(text));
        if (!TryParse(text, out var hash))
            throw new FormatException(
                $"'{Shorten(text)}' is not a Xet hash: expected 64 hexadecimal digits, got {text.Length} characters" +
                (text.Length == 64 ? " with a non-hex character." : "."));
        return hash;
    }

    public static bool TryParse(string? text, out XetHash hash)
    {
        hash = default;
        if (text is null || text.Length != 64)
            return false;
        if (!TryParseWord(text, 0, out var w0) || !TryParseWord(text, 16, out var w1) ||
            !TryParseWord(text, 32, out var w2) || !TryParseWord(text, 48, out var w3))
            return false;
        hash = new XetHash(w0, w1, w2, w3);
        return true;
    }

    private static bool TryParseWord(string text, int offset, out ulong word)
    {
        word = 0;
        for (int i = 0; i < 16; i++)
        {
            int c = text[offset + i];
            int v;
            if (c >= '0' && c <= '9') v = c - '0';
            else if (c >= 'a' && c <= 'f') v = c - 'a' + 10;
            else if (c >= 'A' && c <= 'F') v = c - 'A' + 10;
            else return false;
            word = (word << 4) | (uint)v;
        }
        return true;
    }

    // Keeps messages readable when a whole document is passed by mistake.
    private static string Shorten(string text) => text.Length <= 100 ? text : text.Substring(0, 100) + "…";

    public bool Equals(XetHash other) =>
        _w0 == other._w0 && _w1 == other._w1 && _w2 == other._w2 && _w3 == other._w3;

    public override bool Equals(object? obj) => obj is XetHash other && Equals(other);

    // The words are already uniformly distributed hash output; folding them is enough.
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public override int GetHashCode()
    {
        ulong x = _w0 ^ (_w1 * 0x9E3779B97F4A7C15UL) ^ _w2 ^ (_w3 >> 1);
        return (int)(x ^ (x >> 32));
    }

    public static bool operator ==(XetHash left, XetHash right) => left.Equals(right);
    public static bool operator !=(XetHash left, XetHash right) => !left.Equals(right);
}
