using System;
using System.IO;

namespace XetPs.Hub;

/// <summary>
/// The body of a file downloaded over plain HTTP (git or LFS files), from <see cref="Offset"/> on. Owns the response:
/// dispose it when done. The body is read under the read timeout; a body that ends before <see cref="Length"/>
/// bytes is truncated and the caller resumes from where it stopped.
/// </summary>
public sealed class PlainFileDownload : IDisposable
{
    internal PlainFileDownload(Stream body, long offset, long? length, long? totalSize)
    {
        Body = body;
        Offset = offset;
        Length = length;
        TotalSize = totalSize;
    }

    /// <summary>The bytes, starting at <see cref="Offset"/> of the file.</summary>
    public Stream Body { get; }

    /// <summary>Where the body starts in the file: the offset asked for, or 0 when the server ignored the Range.</summary>
    public long Offset { get; }

    /// <summary>The body length the server announced, when it did.</summary>
    public long? Length { get; }

    /// <summary>The whole file's size, when the server told it (Content-Range or Content-Length of a 200).</summary>
    public long? TotalSize { get; }

    public void Dispose() => Body.Dispose();
}
