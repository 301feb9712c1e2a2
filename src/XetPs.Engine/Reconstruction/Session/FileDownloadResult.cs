using System;

namespace XetPs.Reconstruction;

/// <summary>The outcome of one successful file download.</summary>
/// <param name="DestinationPath">The file written (or found up to date).</param>
/// <param name="Size">Its size in bytes.</param>
/// <param name="XetHash">Its Xet file id, or null for a plain (non-Xet) file.</param>
/// <param name="Skipped">True when the file was already up to date and nothing was downloaded.</param>
/// <param name="Resumed">True when a partial file from an earlier run was continued.</param>
/// <param name="BytesReceived">Bytes received from the network for this file (compressed xorb bytes for Xet).</param>
/// <param name="Elapsed">Wall time of the download.</param>
public sealed record FileDownloadResult(string DestinationPath, long Size, string? XetHash, bool Skipped, bool Resumed,
    long BytesReceived, TimeSpan Elapsed)
{
    /// <summary>Bytes taken from the copy an earlier download left at the destination instead of fetched (a newer
    /// version of the file shares its unchanged chunks with it).</summary>
    public long BytesReused { get; init; }
}
