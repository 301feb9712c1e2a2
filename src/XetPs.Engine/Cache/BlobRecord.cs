using System;
using System.IO;
using System.Text;
using XetPs.Reconstruction;

namespace XetPs.Cache;

/// <summary>
/// XetPs's record of one blob of the Hugging Face cache (<see cref="HubCache.RecordPath"/>): the same
/// <see cref="LocalFileRecord"/> a plain destination keeps, so the same trust rules decide when a blob is up to date
/// without hashing it again. Read and written only while the blob's <see cref="CacheLock"/> is held; a record cut short
/// by a crash reads as none (the blob is then hashed once more).
/// </summary>
internal sealed class BlobRecord : IRecordKeeper
{
    private readonly string _path;

    public BlobRecord(string path) => _path = path;

    public LocalFileRecord? Read()
    {
        try
        {
            return File.Exists(_path) ? LocalFileRecord.Parse(File.ReadAllText(_path)) : null;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return null;
        }
    }

    public void Write(string identity, string path, bool verified, bool synced = false)
    {
        try
        {
            Directory.CreateDirectory(Path.GetDirectoryName(_path)!);
            File.WriteAllText(_path, LocalFileRecord.Format(identity, new FileInfo(path), synced, verified), new UTF8Encoding(false));
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            // Without a record the next run hashes the blob once.
        }
    }

    /// <summary>Removes the record (the blob it describes is gone), best effort.</summary>
    public void Delete() => WorkFiles.TryDelete(_path);
}
