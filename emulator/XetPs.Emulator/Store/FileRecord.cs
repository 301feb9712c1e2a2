using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using System.Text.Json;
using System.Text.Json.Serialization;
using XetPs.Format;

namespace XetPs.Emulator.Store;

/// <summary>One reconstruction term as stored: chunks [Start, End) of a xorb, and their unpacked length.</summary>
internal readonly record struct StoredTerm(XetHash Xorb, int Start, int End, int UnpackedLength);

/// <summary>
/// A Xet file as the CAS knows it: its terms in order (the shard's file section), size and SHA-256. Invariant:
/// <see cref="Size"/> is the sum of the terms' unpacked lengths. Stored as <c>files/{hash}.json</c>.
/// </summary>
internal sealed class FileRecord
{
    public FileRecord(XetHash hash, long size, string sha256, IReadOnlyList<StoredTerm> terms)
    {
        long sum = terms.Sum(t => (long)t.UnpackedLength);
        if (sum != size) throw new InvalidDataException($"File {hash}: terms add up to {sum} bytes, not {size}.");
        Hash = hash;
        Size = size;
        Sha256 = sha256;
        Terms = terms;
    }

    public XetHash Hash { get; }
    public long Size { get; }
    public string Sha256 { get; }
    public IReadOnlyList<StoredTerm> Terms { get; }

    private sealed class Dto
    {
        [JsonPropertyName("size")] public long Size { get; set; }
        [JsonPropertyName("sha256")] public string Sha256 { get; set; } = "";
        [JsonPropertyName("terms")] public List<TermDto> Terms { get; set; } = new();
    }

    private sealed class TermDto
    {
        [JsonPropertyName("xorb")] public string Xorb { get; set; } = "";
        [JsonPropertyName("start")] public int Start { get; set; }
        [JsonPropertyName("end")] public int End { get; set; }
        [JsonPropertyName("length")] public int Length { get; set; }
    }

    public byte[] ToJson() => JsonSerializer.SerializeToUtf8Bytes(new Dto
    {
        Size = Size,
        Sha256 = Sha256,
        Terms = Terms.Select(t => new TermDto { Xorb = t.Xorb.ToString(), Start = t.Start, End = t.End, Length = t.UnpackedLength }).ToList(),
    });

    public static FileRecord FromJson(XetHash hash, byte[] json)
    {
        var dto = JsonSerializer.Deserialize<Dto>(json) ?? throw new InvalidDataException($"File record {hash} is empty.");
        return new FileRecord(hash, dto.Size, dto.Sha256,
            dto.Terms.Select(t => new StoredTerm(XetHash.Parse(t.Xorb), t.Start, t.End, t.Length)).ToArray());
    }
}
