using System;
using System.Collections.Generic;
using System.Globalization;
using System.IO;
using System.Linq;
using System.Net;
using System.Net.Http;
using System.Net.Http.Headers;
using System.Text;
using System.Threading;
using System.Threading.Tasks;
using Microsoft.Extensions.Logging;
using XetPs.Format;
using XetPs.Hub;

namespace XetPs.Cas;

/// <summary>
/// <see cref="ICasReader"/> over HTTP (§2): reconstruction queries to CAS with the read token (v2, falling back to v1
/// on 404/501 once per client, then remembered) and range fetches from presigned xorb URLs. Invariants: the CAS token
/// goes only to CAS, nothing but <c>Range</c> goes to a presigned URL (never a Hub or CAS token); every answer is
/// validated before it is returned (a CAS reached over https hands out https presigned URLs, see
/// <see cref="HttpsDowngrade"/>); a fetch fills its whole destination or throws.
/// </summary>
public sealed class CasClient : ICasReader
{
    private const int Unknown = 0;

    private readonly XetHttpTransport _http;
    private readonly CasTokenProvider _tokens;
    private int _apiVersion = Unknown;

    public CasClient(XetHttpTransport transport, CasTokenProvider tokens)
    {
        _http = transport ?? throw new ArgumentNullException(nameof(transport));
        _tokens = tokens ?? throw new ArgumentNullException(nameof(tokens));
    }

    /// <summary>The reconstruction API version this server answered with: 2, 1, or 0 while not yet known.</summary>
    public int ApiVersion => Volatile.Read(ref _apiVersion);

    public Task<FileReconstruction> GetReconstructionAsync(XetHash fileId, long start, long endInclusive, CancellationToken ct)
    {
        if (start < 0) throw new ArgumentOutOfRangeException(nameof(start), start, "The range start must not be negative.");
        if (endInclusive < start) throw new ArgumentOutOfRangeException(nameof(endInclusive), endInclusive, "The range end (inclusive) must not precede its start.");
        var maxBody = ReconstructionResponse.MaxBodyBytes(endInclusive - start + 1);
        return _http.ExecuteAsync("reconstruction of " + fileId, async attemptToken =>
        {
            var rejectedOnce = false;
            while (true)
            {
                var token = await _tokens.GetTokenAsync(attemptToken).ConfigureAwait(false);
                var version = ApiVersion == 1 ? 1 : 2;
                var response = await QueryAsync(token, version, fileId, start, endInclusive, attemptToken).ConfigureAwait(false);
                try
                {
                    var status = (int)response.StatusCode;
                    if (version == 2 && ApiVersion != 2 && (status == 404 || status == 501))
                    {
                        // v2 not offered (a 404 may also mean "no such file": v1 tells which).
                        response.Dispose();
                        version = 1;
                        response = await QueryAsync(token, 1, fileId, start, endInclusive, attemptToken).ConfigureAwait(false);
                        if (response.IsSuccessStatusCode && Interlocked.CompareExchange(ref _apiVersion, 1, Unknown) == Unknown)
                            _http.Logger.LogInformation("CAS at {Host} has no v2 reconstruction API; using v1", token.CasUrl.Host);
                    }
                    else if (version == 2 && response.IsSuccessStatusCode)
                    {
                        Interlocked.CompareExchange(ref _apiVersion, 2, Unknown);
                    }
                    if ((int)response.StatusCode == 401 && !rejectedOnce)
                    {
                        // The proactive refresh missed (clock skew, revoked token): one fresh token, then it is an error.
                        rejectedOnce = true;
                        _tokens.Invalidate(token);
                        continue;
                    }
                    var what = $"CAS ({token.CasUrl.Host}) v{version} reconstruction of {fileId}";
                    return await ReadAnswerAsync(response, fileId, start, maxBody, what, attemptToken).ConfigureAwait(false);
                }
                finally
                {
                    response.Dispose();
                }
            }
        }, ct);
    }

    public Task FetchXorbRangesAsync(XorbFetch fetch, Memory<byte> destination, CancellationToken ct, IProgress<long>? received = null)
    {
        if (fetch is null) throw new ArgumentNullException(nameof(fetch));
        if (fetch.Ranges.Count == 0) throw new ArgumentException("A fetch needs at least one range.", nameof(fetch));
        if (destination.Length != fetch.TotalLength)
            throw new ArgumentException($"The destination holds {destination.Length} bytes but the fetch of xorb {fetch.Xorb} brings {fetch.TotalLength}.", nameof(destination));
        var range = "bytes=" + string.Join(",", fetch.Ranges.Select(r =>
            r.ByteStart.ToString(CultureInfo.InvariantCulture) + "-" + r.ByteEndInclusive.ToString(CultureInfo.InvariantCulture)));
        var what = $"the fetch of xorb {fetch.Xorb} from {fetch.Url.Host}";
        return _http.ExecuteAsync("fetch of xorb " + fetch.Xorb, async attemptToken =>
        {
            // Presigned: only the Range header, verbatim as signed; no Authorization.
            using var request = new HttpRequestMessage(HttpMethod.Get, fetch.Url);
            request.Headers.TryAddWithoutValidation("Range", range);
            var response = await _http.SendAsync(request, what, attemptToken).ConfigureAwait(false);
            ReadTimeoutStream body;
            try
            {
                body = await _http.OpenBodyAsync(response, what).ConfigureAwait(false);
            }
            catch
            {
                response.Dispose();
                throw;
            }
            using var owner = body; // disposing the body disposes the response
            var status = (int)response.StatusCode;
            if (status == 403)
                throw new XetUrlExpiredException(fetch.Xorb.ToString(), $"The presigned URL of xorb {fetch.Xorb} was refused (403 from {fetch.Url.Host}): expired or not signed for these ranges.",
                    XetHttpTransport.StatusError(response, what));
            if (status == 206 && IsMultipart(response, out var boundary))
            {
                await MultipartByteRanges.ReadAsync(body, boundary, fetch, destination, what, attemptToken, received).ConfigureAwait(false);
                return true;
            }
            if (status == 206)
            {
                if (fetch.Ranges.Count != 1)
                    throw new XetProtocolException($"The answer of {what} asked for {fetch.Ranges.Count} ranges is a single part, not multipart/byteranges.");
                var only = fetch.Ranges[0];
                var contentRange = response.Content.Headers.ContentRange;
                if (contentRange is not null && (contentRange.From != only.ByteStart || contentRange.To != only.ByteEndInclusive))
                    throw new XetProtocolException($"The answer of {what} covers bytes {contentRange.From}-{contentRange.To}, not the requested {only.ByteStart}-{only.ByteEndInclusive}.");
                await ReadExactlyAsync(response, body, destination, what, attemptToken, received).ConfigureAwait(false);
                return true;
            }
            if (status == 200)
            {
                // The server ignored the Range: only acceptable when the whole object is exactly the requested bytes.
                var only = fetch.Ranges.Count == 1 ? fetch.Ranges[0] : null;
                var length = response.Content.Headers.ContentLength;
                if (only is null || only.ByteStart != 0 || (length is long l && l != only.Length))
                    throw new XetProtocolException($"The answer of {what} is the whole object (200, {length?.ToString(CultureInfo.InvariantCulture) ?? "unknown"} bytes) instead of the requested ranges {range.Substring(6)}.");
                await ReadExactlyAsync(response, body, destination, what, attemptToken, received).ConfigureAwait(false);
                return true;
            }
            throw XetHttpTransport.StatusError(response, what);
        }, ct);
    }

    private async Task<HttpResponseMessage> QueryAsync(CasAccessToken token, int version, XetHash fileId, long start, long endInclusive,
        CancellationToken ct)
    {
        var baseUrl = token.CasUrl.AbsoluteUri.TrimEnd('/');
        var url = new Uri($"{baseUrl}/v{version}/reconstructions/{fileId}");
        using var request = new HttpRequestMessage(HttpMethod.Get, url);
        request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", token.AccessToken);
        request.Headers.Range = new RangeHeaderValue(start, endInclusive);
        request.Headers.Accept.Add(new MediaTypeWithQualityHeaderValue("application/json"));
        return await _http.SendAsync(request, $"CAS ({url.Host}) v{version} reconstruction of {fileId}", ct).ConfigureAwait(false);
    }

    /// <summary>Reads one reconstruction answer; errors follow the contract of <see cref="ICasReader"/>.</summary>
    private async Task<FileReconstruction> ReadAnswerAsync(HttpResponseMessage response, XetHash fileId, long start, long maxBody,
        string what, CancellationToken ct)
    {
        var status = (int)response.StatusCode;
        if (status == 401 || status == 403)
            throw new XetAuthenticationException($"{what} was refused ({status}): the CAS read token is not valid for this file.", status,
                XetHttpTransport.StatusError(response, what));
        if (status == 416)
        {
            if (start == 0)
                return new FileReconstruction(0, Array.Empty<ReconstructionTerm>(), new Dictionary<XetHash, IReadOnlyList<XorbFetch>>());
            throw new XetProtocolException($"{what} refused the range starting at byte {start} (416): it starts past the end of the file.",
                XetHttpTransport.StatusError(response, what));
        }
        if (status == 404)
            throw new XetProtocolException($"{what}: CAS does not know file {fileId} (404).", XetHttpTransport.StatusError(response, what));
        if (status != 200 && status != 206) throw XetHttpTransport.StatusError(response, what);
        var body = await _http.ReadBoundedBodyAsync(response, maxBody, what, m => new XetProtocolException(m), ct).ConfigureAwait(false);
        var reconstruction = ReconstructionResponse.Parse(body.AsSpan(), what);
        var cas = response.RequestMessage?.RequestUri;
        if (cas is not null)
            foreach (var fetches in reconstruction.Xorbs.Values)
                foreach (var fetch in fetches)
                    HttpsDowngrade.Refuse(cas, fetch.Url, what);
        return reconstruction;
    }

    private static bool IsMultipart(HttpResponseMessage response, out string boundary)
    {
        boundary = "";
        var type = response.Content.Headers.ContentType;
        if (type?.MediaType is null || !type.MediaType.Equals("multipart/byteranges", StringComparison.OrdinalIgnoreCase)) return false;
        var parameter = type.Parameters.FirstOrDefault(p => p.Name.Equals("boundary", StringComparison.OrdinalIgnoreCase));
        var value = parameter?.Value?.Trim('"');
        if (string.IsNullOrEmpty(value) || value!.Length > 200)
            throw new XetProtocolException("A multipart/byteranges answer has no usable boundary parameter.");
        boundary = value;
        return true;
    }

    /// <summary>Reads exactly destination.Length bytes and checks that the body ends there.</summary>
    private static async Task ReadExactlyAsync(HttpResponseMessage response, ReadTimeoutStream body, Memory<byte> destination, string what,
        CancellationToken ct, IProgress<long>? received)
    {
        var declared = response.Content.Headers.ContentLength;
        if (declared is long d && d != destination.Length)
            throw new XetProtocolException($"The answer of {what} announces {d} bytes where {destination.Length} were requested.");
        var written = 0;
        while (written < destination.Length)
        {
            var n = await body.ReadCoreAsync(destination.Slice(written), ct).ConfigureAwait(false);
            if (n == 0) throw new IOException($"The answer of {what} ended after {written} of {destination.Length} bytes (truncated response).");
            written += n;
            received?.Report(written);
        }
        var probe = new byte[1];
        if (await body.ReadCoreAsync(probe, ct).ConfigureAwait(false) != 0)
            throw new XetProtocolException($"The answer of {what} is longer than the {destination.Length} bytes requested.");
    }
}
