namespace XetPs.Reconstruction;

/// <summary>
/// Reads and writes the <see cref="LocalFileRecord"/> of one local file, for whoever holds that file's lock: a plain
/// destination's <see cref="DestinationLock"/> (the record is the lock), or the Hugging Face cache's record of a blob
/// (<see cref="Cache.BlobRecord"/>, under the blob's lock file). Writing is best effort: without a record the next run
/// hashes the file once, slower and never wrong.
/// </summary>
internal interface IRecordKeeper
{
    /// <summary>The record as it stands, or null when there is none (absent, empty, cut short or unreadable).</summary>
    LocalFileRecord? Read();

    /// <summary>Records the file now at <paramref name="path"/> as <paramref name="identity"/>.</summary>
    void Write(string identity, string path, bool verified, bool synced = false);
}
