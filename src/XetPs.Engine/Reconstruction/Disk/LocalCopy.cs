using System;
using System.IO;
using System.Threading;
using XetPs.Cache;
using XetPs.Hub;

namespace XetPs.Reconstruction;

/// <summary>What the file already at a destination is, against the repo file about to be saved there.</summary>
internal enum LocalCopyState
{
    /// <summary>The repo file itself: its bytes were checked (now or by a verified download that the record vouches for).</summary>
    UpToDate,

    /// <summary>A file one of our downloads left there and nobody changed since (its record still describes it), of
    /// another version of the repo file. Ours to replace without -Force.</summary>
    Outdated,

    /// <summary>A file our download of this very version left there (unchanged since) whose bytes do not hash to it: it
    /// was saved without verification, or damaged since. Ours to replace without -Force.</summary>
    Damaged,

    /// <summary>Anything else: a file someone else put there or changed. Replaced only when asked to (-Force).</summary>
    Foreign,
}

/// <summary>
/// The up-to-date check. Invariant: a file is called up to date only when its bytes were checked against the repo
/// file's identity: hashed here, or recorded as verified by our own download (and unchanged since, see
/// <see cref="LocalFileRecord"/>). A record of an unverified download is no such proof when verifying: the file is
/// hashed once, and recorded as verified if it matches.
/// huggingface_hub's local-dir metadata (the <c>huggingFace</c> argument of <see cref="Examine"/>, written by
/// <c>hf download --local-dir</c> or by XetPs) vouches like an unverified record: it says which version a Hugging Face
/// download left there, so a file it still describes is up to date without a hash only when not verifying (as
/// huggingface_hub trusts it), and is another version of ours to replace when its etag is another.
/// </summary>
internal static class LocalCopy
{
    public static LocalCopyState Examine(string destination, RepoEntry entry, string identity, IRecordKeeper record, bool verify,
        CancellationToken cancellationToken, LocalDirMetadata? huggingFace = null) =>
        Examine(destination, entry, identity, record.Read(), record, verify, cancellationToken, huggingFace);

    /// <summary>As above, with the record <paramref name="known"/> already read from <paramref name="record"/>.</summary>
    public static LocalCopyState Examine(string destination, RepoEntry entry, string identity, LocalFileRecord? known, IRecordKeeper record,
        bool verify, CancellationToken cancellationToken, LocalDirMetadata? huggingFace = null)
    {
        var info = new FileInfo(destination);
        // A copy our download left, unchanged since, of content with another hash is another version: no need to read it
        // (a same-size update would otherwise hash the whole old copy before downloading a byte).
        // Only between identities of one kind: a record may name the same content by its sha256 where the Hub now gives
        // its Xet id (one written offline, say), and only hashing tells those apart.
        if (known is not null && known.IsOf(info) && !string.Equals(known.Identity, identity, StringComparison.Ordinal) &&
            SameKind(known.Identity, identity))
            return LocalCopyState.Outdated;
        var etag = (entry.Sha256 ?? entry.GitOid)?.ToLowerInvariant();
        // Our own record is the stronger word (exact size and mtime): the metadata speaks only where we have none.
        var described = known is null && huggingFace is not null && huggingFace.Describes(info) ? huggingFace : null;
        if (info.Length == entry.Size)
        {
            if (known is not null && known.Describes(info, identity) && (known.Verified || !verify)) return LocalCopyState.UpToDate;
            if (!verify && described is not null && described.Etag == etag) return LocalCopyState.UpToDate;
            // No record that vouches for the bytes: hash the local file once, then remember.
            var actual = entry.XetHash is not null ? "xet:" + LocalFileHasher.XetFileId(destination, cancellationToken)
                : entry.Sha256 is not null ? "sha256:" + LocalFileHasher.Sha256Hex(destination, cancellationToken)
                : "git:" + LocalFileHasher.GitBlobSha1Hex(destination, cancellationToken);
            if (string.Equals(actual, identity, StringComparison.Ordinal))
            {
                // The bytes just hashed are the file's; forcing them to the device (cheap for a file from an earlier boot,
                // whose pages are clean) lets the record outlive the next restart without another hash.
                record.Write(identity, destination, verified: true, synced: TryFlushToDisk(destination));
                return LocalCopyState.UpToDate;
            }
        }
        if (known is null || !known.IsOf(info))
            return described is null ? LocalCopyState.Foreign : described.Etag == etag ? LocalCopyState.Damaged : LocalCopyState.Outdated;
        return string.Equals(known.Identity, identity, StringComparison.Ordinal) ? LocalCopyState.Damaged : LocalCopyState.Outdated;
    }

    /// <summary>True when both identities are of the same kind ("xet:", "sha256:" or "git:").</summary>
    private static bool SameKind(string a, string b)
    {
        var colon = a.IndexOf(':');
        return colon > 0 && string.CompareOrdinal(a, 0, b, 0, colon + 1) == 0;
    }

    /// <summary>fsync of a file we may not be allowed to open for writing: false when it could not be done.</summary>
    private static bool TryFlushToDisk(string path)
    {
        try
        {
            using var file = new FileStream(path, FileMode.Open, FileAccess.ReadWrite, FileShare.ReadWrite | FileShare.Delete, 1);
            file.Flush(flushToDisk: true);
            return true;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return false;
        }
    }
}
