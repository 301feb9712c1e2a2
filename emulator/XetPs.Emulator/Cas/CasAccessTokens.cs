using System;
using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using XetPs.Hub;

namespace XetPs.Emulator.Cas;

/// <summary>
/// Issues and checks CAS access tokens (what xet-read-token hands out). A token names the repo it was issued for
/// and its expiry, signed with the per-server secret: CAS calls accept only unexpired tokens with a good signature,
/// and a reconstruction only of a file the token's repo holds.
/// </summary>
internal sealed class CasAccessTokens
{
    private readonly byte[] _secret;

    public CasAccessTokens(byte[] secret) => _secret = secret;

    public readonly record struct Claims(RepoId Repo, long Expires);

    public enum Verdict { Valid, Missing, BadSignature, Expired }

    public string Issue(RepoId repo, DateTimeOffset expires)
    {
        string payload = repo.ApiPath + "|" + expires.ToUnixTimeSeconds().ToString(CultureInfo.InvariantCulture);
        string body = PresignedUrlSigner.Base64Url(Encoding.UTF8.GetBytes(payload));
        return "xet_" + body + "." + Mac(body);
    }

    public Verdict Check(string? authorization, DateTimeOffset now, out Claims claims)
    {
        claims = default;
        if (authorization is null || !authorization.StartsWith("Bearer ", StringComparison.Ordinal)) return Verdict.Missing;
        string token = authorization.Substring(7).Trim();
        if (!token.StartsWith("xet_", StringComparison.Ordinal)) return Verdict.BadSignature;
        int dot = token.IndexOf('.');
        if (dot < 0) return Verdict.BadSignature;
        string body = token.Substring(4, dot - 4);
        byte[] expected = Encoding.ASCII.GetBytes(Mac(body));
        byte[] given = Encoding.ASCII.GetBytes(token.Substring(dot + 1));
        if (!CryptographicOperations.FixedTimeEquals(expected, given)) return Verdict.BadSignature;
        string payload;
        try { payload = Encoding.UTF8.GetString(FromBase64Url(body)); }
        catch (FormatException) { return Verdict.BadSignature; }
        int bar = payload.LastIndexOf('|');
        if (bar < 0 || !long.TryParse(payload.Substring(bar + 1), NumberStyles.None, CultureInfo.InvariantCulture, out long exp))
            return Verdict.BadSignature;
        claims = new Claims(RepoIdFromApiPath(payload.Substring(0, bar)), exp);
        return now.ToUnixTimeSeconds() >= exp ? Verdict.Expired : Verdict.Valid;
    }

    private static RepoId RepoIdFromApiPath(string apiPath)
    {
        int slash = apiPath.IndexOf('/');
        string kind = apiPath.Substring(0, slash);
        string name = apiPath.Substring(slash + 1);
        RepoType type = kind switch { "datasets" => RepoType.Dataset, "spaces" => RepoType.Space, _ => RepoType.Model };
        return new RepoId(type, name);
    }

    private string Mac(string body) => PresignedUrlSigner.Base64Url(HMACSHA256.HashData(_secret, Encoding.ASCII.GetBytes("cas|" + body)));

    private static byte[] FromBase64Url(string s)
    {
        string b = s.Replace('-', '+').Replace('_', '/');
        return Convert.FromBase64String(b.PadRight(b.Length + (4 - b.Length % 4) % 4, '='));
    }
}
