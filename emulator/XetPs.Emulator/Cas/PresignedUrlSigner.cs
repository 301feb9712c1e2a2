using System;
using System.Collections.Generic;
using System.Globalization;
using System.Security.Cryptography;
using System.Text;

namespace XetPs.Emulator.Cas;

/// <summary>
/// Signs and checks presigned xorb URLs. The signature is an HMAC (per-server secret) over the path, the signed
/// byte-range set and the expiry, so a URL authorizes exactly those bytes of that xorb until it expires, and needs no
/// Authorization header. Shape follows the real transfer URLs: <c>?X-Xet-Signed-Range=bytes%3D..&amp;Expires=..&amp;Signature=..</c>.
/// </summary>
internal sealed class PresignedUrlSigner
{
    private readonly byte[] _secret;

    public PresignedUrlSigner(byte[] secret) => _secret = secret;

    public enum Verdict { Valid, BadSignature, Expired }

    /// <summary>The query string (with leading '?') for <paramref name="path"/> authorizing <paramref name="ranges"/>.</summary>
    public string Sign(string path, IReadOnlyList<InclusiveRange> ranges, DateTimeOffset expires)
    {
        string signedRange = ByteRangeHeader.Format(ranges);
        long exp = expires.ToUnixTimeSeconds();
        string sig = Mac(path, signedRange, exp);
        return "?X-Xet-Signed-Range=" + Uri.EscapeDataString(signedRange) +
               "&Expires=" + exp.ToString(CultureInfo.InvariantCulture) +
               "&Signature=" + sig;
    }

    /// <summary>Checks a URL's query values; on success <paramref name="signedRanges"/> is the authorized set.</summary>
    public Verdict Check(string path, string? signedRange, string? expires, string? signature, DateTimeOffset now,
                         out List<InclusiveRange> signedRanges)
    {
        signedRanges = new List<InclusiveRange>();
        if (signedRange is null || expires is null || signature is null) return Verdict.BadSignature;
        if (!long.TryParse(expires, NumberStyles.None, CultureInfo.InvariantCulture, out long exp)) return Verdict.BadSignature;
        byte[] expected = Encoding.ASCII.GetBytes(Mac(path, signedRange, exp));
        byte[] given = Encoding.ASCII.GetBytes(signature);
        if (!CryptographicOperations.FixedTimeEquals(expected, given)) return Verdict.BadSignature;
        if (now.ToUnixTimeSeconds() >= exp) return Verdict.Expired;
        if (!ByteRangeHeader.TryParse(signedRange, out var specs)) return Verdict.BadSignature;
        foreach (var s in specs)
        {
            if (s.Start is null || s.End is null) return Verdict.BadSignature;
            signedRanges.Add(new InclusiveRange(s.Start.Value, s.End.Value));
        }
        return Verdict.Valid;
    }

    private string Mac(string path, string signedRange, long exp)
    {
        byte[] message = Encoding.UTF8.GetBytes(path + "\n" + signedRange + "\n" + exp.ToString(CultureInfo.InvariantCulture));
        return Base64Url(HMACSHA256.HashData(_secret, message));
    }

    internal static string Base64Url(byte[] bytes) =>
        Convert.ToBase64String(bytes).TrimEnd('=').Replace('+', '-').Replace('/', '_');
}
