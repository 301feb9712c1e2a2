namespace XetPs.Reconstruction;

/// <summary>Progress of one file: bytes written to its temporary file so far, out of its size.</summary>
/// <param name="Path">The repo path of the file.</param>
/// <param name="BytesWritten">Bytes of the file already written (including a resumed prefix).</param>
/// <param name="TotalBytes">The file size.</param>
public readonly record struct FileProgress(string Path, long BytesWritten, long TotalBytes)
{
    /// <summary>
    /// Bytes of the file that have arrived, at least <see cref="BytesWritten"/>: besides those written, the terms
    /// whose range is in memory, and for a range still arriving its share of the bytes its request has received so far
    /// (an estimate: a range is compressed). What a progress bar shows, so that it moves while a large range arrives.
    /// 0 when the reporter does not tell (then read <see cref="BytesWritten"/>).
    /// </summary>
    public long BytesArrived { get; init; }
}
