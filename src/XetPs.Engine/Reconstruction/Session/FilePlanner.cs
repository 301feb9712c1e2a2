using System;
using System.IO;
using XetPs.Cache;
using XetPs.Format;
using XetPs.Hub;

namespace XetPs.Reconstruction;

/// <summary>
/// Finds a file's <see cref="FilePlan"/> from what is on disk, by the rules a download applies (<see cref="LocalCopy"/>
/// for a file that is there, the resume journal or marker for a partial one), without applying them: it reads records,
/// metadata and journals, and writes, locks and hashes nothing, so -WhatIf and a scheduled job's check leave no trace.
/// A file that would need a hash to be trusted is <see cref="FileState.Unverified"/>.
/// </summary>
internal static class FilePlanner
{
    /// <summary>The plan of <paramref name="entry"/> saved at <paramref name="destination"/> (a plain folder).</summary>
    public static FilePlan ForDestination(RepoEntry entry, string destination, string? localDir, bool verify)
    {
        var huggingFace = localDir is null ? null : LocalDirMetadata.Read(localDir, entry.Path);
        if (File.Exists(destination))
            return Present(entry, destination, destination, ReadRecord(LocalFileRecord.PathFor(destination, entry.Path)), huggingFace, verify);
        return Absent(entry, destination, WorkFiles.Beside(destination, entry.Path), verify);
    }

    /// <summary>The plan of <paramref name="entry"/> in <paramref name="cache"/>: its snapshot entry, else its blob, else its partial blob.</summary>
    public static FilePlan ForCache(HubCache cache, RepoEntry entry, bool verify)
    {
        var etag = HubCache.EtagOf(entry);
        var pointer = cache.SnapshotPath(entry.Repo, entry.Revision, entry.Path);
        var record = new BlobRecord(cache.RecordPath(entry.Repo, etag)).Read();
        if (SnapshotLink.FinalTarget(pointer) is { } present) return Present(entry, present, pointer, record, null, verify);
        var blob = cache.BlobPath(entry.Repo, etag);
        if (File.Exists(blob)) return Present(entry, blob, pointer, record, null, verify);
        return Absent(entry, pointer, cache.WorkFilesFor(entry.Repo, etag), verify);
    }

    /// <summary>The file at <paramref name="file"/> against the entry, by <see cref="LocalCopy"/>'s rules short of hashing.</summary>
    private static FilePlan Present(RepoEntry entry, string file, string localPath, LocalFileRecord? known, LocalDirMetadata? huggingFace, bool verify)
    {
        var info = new FileInfo(file);
        var identity = LocalFileRecord.IdentityOf(entry);
        var etag = (entry.Sha256 ?? entry.GitOid)?.ToLowerInvariant();
        FileState state;
        if (identity is not null && known is not null && known.Describes(info, identity) && (known.Verified || !verify)) state = FileState.UpToDate;
        else if (!verify && known is null && huggingFace is not null && huggingFace.Describes(info) && huggingFace.Etag == etag) state = FileState.UpToDate;
        else if (info.Length == entry.Size && identity is not null) state = FileState.Unverified;
        else state = FileState.Changed;
        return new FilePlan(entry, entry.Path, localPath, state, entry.Size, 0);
    }

    /// <summary>No file: what an interrupted download left that a resume would keep, else nothing.</summary>
    private static FilePlan Absent(RepoEntry entry, string localPath, WorkFiles work, bool verify)
    {
        long present = 0;
        if (File.Exists(work.Partial))
        {
            var length = new FileInfo(work.Partial).Length;
            if (entry.IsXet && XetHash.TryParse(entry.XetHash, out var fileId))
            {
                var journal = ResumeJournal.TryRead(work.Journal, fileId, entry.Size);
                if (journal is not null && (journal.HasHashes || !verify)) present = Math.Min(journal.CommittedLength, length);
            }
            else if (File.Exists(work.Journal) && ReadText(work.Journal) == PlainFileDownloader.MarkerFor(entry))
            {
                present = Math.Min(length, entry.Size);
            }
        }
        return new FilePlan(entry, entry.Path, localPath, present > 0 ? FileState.Partial : FileState.Missing, entry.Size, present);
    }

    internal static LocalFileRecord? ReadRecord(string path) => ReadText(path) is { } text ? LocalFileRecord.Parse(text) : null;

    private static string? ReadText(string path)
    {
        try
        {
            return File.Exists(path) ? File.ReadAllText(path) : null;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return null;
        }
    }
}
