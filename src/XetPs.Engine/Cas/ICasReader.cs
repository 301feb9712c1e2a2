using System;
using System.Threading;
using System.Threading.Tasks;
using XetPs.Format;

namespace XetPs.Cas;

/// <summary>
/// What the reconstruction pipeline needs from CAS: the seam between the HTTP layer and the pipeline.
/// <see cref="CasClient"/> implements it over HTTP; tests may implement it in memory.
/// </summary>
public interface ICasReader
{
    /// <summary>
    /// GET /v2/reconstructions/{fileId} (v1 fallback on 404/501) with Range bytes=start-endInclusive.
    /// Validates the answer (every term has a fetch entry covering it, sizes within limits, no lying lengths
    /// beyond 128 KiB per chunk); 416 past the end -> <see cref="XetProtocolException"/> unless the file is empty.
    /// </summary>
    Task<FileReconstruction> GetReconstructionAsync(XetHash fileId, long start, long endInclusive, CancellationToken ct);

    /// <summary>
    /// Fetches all ranges of one presigned URL in one request (multipart/byteranges when several) and copies the
    /// raw (still compressed) bytes of each range into <paramref name="destination"/>, in descriptor order, back to
    /// back. Retries transient failures; a 403 (expired or unsigned) throws <see cref="XetUrlExpiredException"/> so
    /// the caller refreshes URLs. <paramref name="received"/>, when given, hears after each read how many bytes of
    /// the current attempt have arrived (from 0 again on a retry): what per-file progress shows while a range, up to
    /// a whole xorb, is still arriving.
    /// </summary>
    Task FetchXorbRangesAsync(XorbFetch fetch, Memory<byte> destination, CancellationToken ct, IProgress<long>? received = null);
}
