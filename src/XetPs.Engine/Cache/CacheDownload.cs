using System;
using System.Diagnostics;
using System.IO;
using System.Linq;
using System.Threading;
using System.Threading.Tasks;
using Microsoft.Extensions.Logging;
using XetPs.Cas;
using XetPs.Hub;
using XetPs.Reconstruction;

namespace XetPs.Cache;

/// <summary>
/// Saves one file into the Hugging Face cache, in huggingface_hub's order: resolve the revision (file metadata: commit,
/// etag, size), record the ref, take the blob's lock, then answer from the snapshot entry if it is there, else from the
/// blob if it is there (linking it), else download the blob through the session's engine and link it.
/// Invariants: the blob's <see cref="CacheLock"/> is held from the first look at the snapshot entry or the blob until the
/// entry exists, so another process (Python or XetPs) never downloads the same blob at the same time nor sees half of
/// it; a blob or entry is reused only when the trust rules of <see cref="LocalCopy"/> call it the file itself, and one
/// that does not hash to its name is replaced; the blob appears only complete and verified (its partial file is
/// <c>blobs/&lt;etag&gt;.incomplete</c>, moved into place by the engine), and the snapshot entry only after it.
/// </summary>
internal static class CacheDownload
{
    public static async Task<FileDownloadResult> RunAsync(XetSession session, CacheDownloadRequest request, IProgress<FileProgress>? progress,
        CancellationToken token)
    {
        var clock = Stopwatch.StartNew();
        var cache = request.Cache;
        var logger = session.Logger;
        if (session.Options.Offline) return await AnswerOfflineAsync(session, request, progress, clock, token).ConfigureAwait(false);
        var entry = request.Entry ?? await session.GetFileAsync(request.Repo, request.Revision, request.Path, token).ConfigureAwait(false);
        if (!HubCache.IsCommitId(entry.Revision))
            throw new XetProtocolException($"The Hub named no commit for '{entry.Path}' at '{request.Revision ?? HubCache.DefaultRevision}', so it has no snapshot in the Hugging Face cache.");
        var etag = HubCache.EtagOf(entry);
        var repo = request.Repo;
        var pointer = cache.SnapshotPath(repo, entry.Revision, entry.Path);
        var blob = cache.BlobPath(repo, etag);
        RecordRef(cache, repo, request.Revision, entry.Revision, logger);

        // Taken before a file slot, as for a plain destination: waiting for another process's download of this blob
        // holds no slot that other files could use.
        using var blobLock = await CacheLock.AcquireAsync(cache.LockPath(repo, etag), entry.Path, logger, token).ConfigureAwait(false);
        using var slot = await session.FileSlotAsync(token).ConfigureAwait(false);
        var record = new BlobRecord(cache.RecordPath(repo, etag));
        var identity = LocalFileRecord.IdentityOf(entry)!; // not null: the entry has an etag
        var verify = session.Options.Verify;

        if (SnapshotLink.FinalTarget(pointer) is { } present)
        {
            if (await IsTheFileAsync(present, entry, identity, record, verify, token).ConfigureAwait(false))
            {
                logger?.LogInformation("{Path} is up to date at {Snapshot}", entry.Path, pointer);
                return Done(pointer, entry, progress, clock, skipped: true);
            }
            logger?.LogWarning("{Path}: {File} in the cache does not match its hash (damaged, or saved without verification); downloading it again",
                entry.Path, present);
            Discard(present, record);
            WorkFiles.TryDelete(pointer);
        }
        else if (File.Exists(blob))
        {
            if (await IsTheFileAsync(blob, entry, identity, record, verify, token).ConfigureAwait(false))
            {
                Link(cache, blob, pointer, newBlob: false, logger);
                logger?.LogInformation("{Path}: its blob {Blob} was in the cache already; linked it into the snapshot", entry.Path, etag);
                return Done(pointer, entry, progress, clock, skipped: true);
            }
            logger?.LogWarning("{Path}: the blob {Blob} in the cache does not match its hash (damaged, or saved without verification); downloading it again",
                entry.Path, blob);
            Discard(blob, record);
        }

        CacheDirTag.Ensure(cache.Root);
        var work = cache.WorkFilesFor(repo, etag);
        // The file's blob in another snapshot (an older revision): its chunks the new version shares are read from it.
        var earlier = entry.IsXet ? EarlierBlob(cache, repo, entry, etag) : null;
        FileReconstructor.Outcome outcome;
        using (var room = session.Resources.DiskSpace.Reserve(blob, work, entry.Size))
            outcome = await session.DownloadVerifiedAsync(entry, blob, work, room.Track(progress), token, earlier).ConfigureAwait(false);
        record.Write(identity, blob, verified: verify);
        KeepChunkMap(cache.TermsPath(repo, etag), outcome.Terms, logger, entry.Path);
        Link(cache, blob, pointer, newBlob: true, logger);
        logger?.LogInformation("Downloaded {Path} ({Size} bytes{Resumed}{Reused}) into the cache in {Seconds:0.00} s", entry.Path, entry.Size,
            outcome.Resumed ? ", resumed" : "", outcome.BytesReused > 0 ? $", {outcome.BytesReused} reused from an older snapshot's blob" : "",
            clock.Elapsed.TotalSeconds);
        return new FileDownloadResult(pointer, entry.Size, entry.XetHash, Skipped: false, outcome.Resumed, outcome.BytesReceived, clock.Elapsed)
        {
            BytesReused = outcome.BytesReused,
        };
    }

    /// <summary>
    /// The blob of <paramref name="entry"/>'s path in the newest other snapshot of the repository that XetPs downloaded
    /// with verification and that is unchanged since (its record and chunk map are in the lock folder), as a source of
    /// chunks; null when there is none. Read only, never moved: the older snapshot keeps it.
    /// </summary>
    internal static EarlierCopy? EarlierBlob(HubCache cache, RepoId repo, RepoEntry entry, string etag)
    {
        var snapshots = Path.Combine(cache.RepoFolder(repo), "snapshots");
        if (!Directory.Exists(snapshots)) return null;
        foreach (var snapshot in new DirectoryInfo(snapshots).GetDirectories().OrderByDescending(d => d.LastWriteTimeUtc))
        {
            if (snapshot.Name == entry.Revision) continue;
            string pointer;
            try
            {
                pointer = SafePath.Combine(snapshot.FullName, entry.Path);
            }
            catch (UnsafeRepoPathException)
            {
                return null;
            }
            if (SnapshotLink.FinalTarget(pointer) is not { } target) continue;
            var olderEtag = Path.GetFileName(target);
            if (olderEtag == etag || !HubCache.IsEtag(olderEtag)) continue;
            var record = new BlobRecord(cache.RecordPath(repo, olderEtag)).Read();
            if (EarlierCopy.TryOpenWithMap(target, cache.TermsPath(repo, olderEtag), record) is { } copy) return copy;
        }
        return null;
    }

    /// <summary>Keeps where the blob's chunks sit, for its next version (best effort: without it that one is fetched whole).</summary>
    private static void KeepChunkMap(string path, WrittenTerms? terms, ILogger? logger, string repoPath)
    {
        try
        {
            if (terms is not null && terms.ChunkCount > 0) terms.Save(path);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or UnsafeWorkPathException)
        {
            logger?.LogDebug("The chunk map of {Path} was not kept: {Error}", repoPath, e.Message);
        }
    }

    /// <summary>
    /// Offline, as huggingface_hub answers with HF_HUB_OFFLINE: the revision through <c>refs/</c> (or a commit id as is),
    /// then the snapshot entry; nothing is sent. A file the cache does not hold fails with <see cref="XetOfflineException"/>
    /// naming it. The entry is checked by the trust rules when its etag is known (from the piped entry, or the blob the
    /// symlink names): a verified record that still describes it, else a hash against the etag.
    /// </summary>
    private static async Task<FileDownloadResult> AnswerOfflineAsync(XetSession session, CacheDownloadRequest request, IProgress<FileProgress>? progress,
        Stopwatch clock, CancellationToken token)
    {
        var cache = request.Cache;
        var repo = request.Repo;
        var revision = request.Entry?.Revision ?? request.Revision ?? HubCache.DefaultRevision;
        var commit = cache.ResolveRevision(repo, revision)
                     ?? throw new XetOfflineException(request.Path, $"the Hugging Face cache at '{cache.Root}' has no ref '{revision}' of {repo}, so '{request.Path}' cannot be found there");
        var pointer = cache.SnapshotPath(repo, commit, request.Path);
        var file = SnapshotLink.FinalTarget(pointer)
                   ?? throw new XetOfflineException(request.Path, $"'{request.Path}' of {repo} at {commit} is not in the Hugging Face cache at '{cache.Root}'");
        var etag = request.Entry is { } entry ? HubCache.EtagOf(entry)
            : HubCache.IsEtag(Path.GetFileName(file)) && Path.GetFileName(Path.GetDirectoryName(file)) == "blobs" ? Path.GetFileName(file) : null;
        if (etag is not null && session.Options.Verify)
        {
            using var blobLock = await CacheLock.AcquireAsync(cache.LockPath(repo, etag), request.Path, session.Logger, token).ConfigureAwait(false);
            await Task.Run(() => CheckOffline(file, etag, new BlobRecord(cache.RecordPath(repo, etag)), request.Path, token), token).ConfigureAwait(false);
        }
        var size = new FileInfo(file).Length;
        session.Logger?.LogInformation("{Path} answered offline from the cache at {Snapshot}", request.Path, pointer);
        progress?.Report(new FileProgress(request.Path, size, size));
        return new FileDownloadResult(pointer, size, request.Entry?.XetHash, Skipped: true, Resumed: false, 0, clock.Elapsed);
    }

    /// <summary>Offline trust: a verified record of the blob that still describes it, else its hash against its etag.</summary>
    private static void CheckOffline(string file, string etag, BlobRecord record, string repoPath, CancellationToken token)
    {
        var info = new FileInfo(file);
        // The record lives under the etag's name, so whatever identity it was written with, it vouches for this content.
        if (record.Read() is { Verified: true } known && known.Describes(info, known.Identity)) return;
        var sha256 = HubCache.IsSha256(etag);
        var actual = sha256 ? LocalFileHasher.Sha256Hex(file, token) : LocalFileHasher.GitBlobSha1Hex(file, token);
        if (!string.Equals(actual, etag, StringComparison.OrdinalIgnoreCase))
            throw new XetOfflineException(repoPath, $"'{repoPath}' in the Hugging Face cache ({file}) does not match its hash {etag} and cannot be downloaded again");
        record.Write((sha256 ? "sha256:" : "git:") + etag, file, verified: true);
    }

    /// <summary>True when the file at <paramref name="path"/> is the repo file by the trust rules (hashed here at most once).</summary>
    private static Task<bool> IsTheFileAsync(string path, RepoEntry entry, string identity, BlobRecord record, bool verify, CancellationToken token) =>
        Task.Run(() => LocalCopy.Examine(path, entry, identity, record, verify, token) == LocalCopyState.UpToDate, token);

    /// <summary>
    /// The ref of <paramref name="revision"/>, as huggingface_hub records it before it looks at the files. Best effort:
    /// a cache this user may only read still serves files that are there.
    /// </summary>
    private static void RecordRef(HubCache cache, RepoId repo, string? revision, string commit, ILogger? logger)
    {
        try
        {
            cache.WriteRef(repo, revision, commit);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            logger?.LogWarning("Could not record that '{Revision}' is {Commit} in the cache: {Error}", revision ?? HubCache.DefaultRevision, commit, e.Message);
        }
    }

    private static void Link(HubCache cache, string blob, string pointer, bool newBlob, ILogger? logger)
    {
        if (!SnapshotLink.Create(blob, pointer, newBlob, cache.Symlinks) && cache.FirstCopyInsteadOfLink())
            logger?.LogWarning("Symlinks cannot be made in {Cache} (on Windows they need Developer Mode or admin rights; or HF_HUB_DISABLE_SYMLINKS is set): " +
                               "the snapshots hold the files themselves, as huggingface_hub then does, which takes more disk space", cache.Root);
    }

    /// <summary>Removes a file that is not what its name promises, and XetPs's record of it.</summary>
    private static void Discard(string path, BlobRecord record)
    {
        File.Delete(path);
        record.Delete();
    }

    private static FileDownloadResult Done(string pointer, RepoEntry entry, IProgress<FileProgress>? progress, Stopwatch clock, bool skipped)
    {
        progress?.Report(new FileProgress(entry.Path, entry.Size, entry.Size));
        return new FileDownloadResult(pointer, entry.Size, entry.XetHash, skipped, Resumed: false, 0, clock.Elapsed);
    }
}
