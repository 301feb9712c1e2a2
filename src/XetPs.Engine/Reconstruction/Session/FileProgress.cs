namespace XetPs.Reconstruction;

/// <summary>Progress of one file: bytes written to its temporary file so far, out of its size.</summary>
/// <param name="Path">The repo path of the file.</param>
/// <param name="BytesWritten">Bytes of the file already written (including a resumed prefix).</param>
/// <param name="TotalBytes">The file size.</param>
public readonly record struct FileProgress(string Path, long BytesWritten, long TotalBytes);
