using System;
using System.IO;
using System.Reflection;
using System.Text.Json;

namespace XetPs.Tests.Format;

/// <summary>
/// Loads the ground-truth vector files: the BLAKE3 team vectors (a copy of shared/xet/blake3_test_vectors.json kept in
/// Format/vectors, so a clean clone needs nothing outside the repository) and the xet-core merkle vectors embedded in
/// this assembly.
/// </summary>
internal static class FormatVectors
{
    private static readonly Lazy<JsonDocument> Blake3Document = new(() => JsonDocument.Parse(File.ReadAllText(FormatTestData.VectorFile("blake3_test_vectors.json"))));
    private static readonly Lazy<JsonDocument> MerkleDocument = new(LoadMerkle);

    public static JsonElement Blake3 => Blake3Document.Value.RootElement;
    public static JsonElement Merkle => MerkleDocument.Value.RootElement;

    /// <summary>The BLAKE3 vector input: bytes 0, 1, …, 250 repeating.</summary>
    public static byte[] Blake3Input(int length)
    {
        var input = new byte[length];
        for (int i = 0; i < length; i++) input[i] = (byte)(i % 251);
        return input;
    }

    public static JsonElement Blake3Case(int inputLength)
    {
        foreach (var c in Blake3.GetProperty("cases").EnumerateArray())
            if (c.GetProperty("input_len").GetInt32() == inputLength)
                return c;
        throw new ArgumentException($"No BLAKE3 vector has input_len {inputLength}.");
    }

    private static JsonDocument LoadMerkle()
    {
        using var stream = Assembly.GetExecutingAssembly().GetManifestResourceStream("merkle_vectors.json")
            ?? throw new InvalidOperationException("The embedded resource merkle_vectors.json is missing from XetPs.Tests.");
        return JsonDocument.Parse(stream);
    }
}
