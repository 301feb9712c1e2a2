using System;
using System.Collections.Generic;
using System.IO;
using System.Threading;

namespace XetPs.Reconstruction;

/// <summary>
/// Checks, before a download starts, that the destination's volume can hold what the file still needs, counting what
/// the session's other downloads into the same folder have yet to write. Why: an unattended night run of 100 GB of
/// shards on a nearly full disk should fail in the first second with the sizes, not after hours with "No space left
/// on device". Best effort, leaning towards letting a download start: where the volume's free space cannot be read
/// (a UNC share, a pseudo or network file system that reports no capacity), the check is skipped and the write itself
/// reports a full disk, as before. The space counted is what this user may use (statvfs f_bavail; root's reserved
/// blocks are not counted). Downloads are matched by their work folder (<c>&lt;root&gt;/.cache/xetps</c>), so two
/// destination roots on one volume do not see each other's claims (again on the side of starting).
/// Invariant: the free space is read outside the lock (it is I/O); the claims are summed and added under it, so two
/// downloads starting together cannot both count the same free bytes.
/// </summary>
internal sealed class DiskSpaceLedger
{
    private readonly object _gate = new();
    private readonly List<Claim> _claims = new();

    /// <summary>
    /// Claims room for <paramref name="size"/> bytes at <paramref name="destinationPath"/> less what a partial file of an
    /// earlier run already holds (a resume writes only the rest); the old file at the destination, if any, is not
    /// counted as free, since it stays until the new one is complete. Throws
    /// <see cref="XetInsufficientDiskSpaceException"/> when the volume's free space, less what the other claims on
    /// the same folder have yet to write, is smaller. Dispose the claim when the download ends, however it ends.
    /// </summary>
    public Claim Reserve(string destinationPath, string repoPath, long size) =>
        Reserve(destinationPath, WorkFiles.Beside(destinationPath, repoPath), size);

    /// <summary>As above, for a download whose partial file is <see cref="WorkFiles.Partial"/> of <paramref name="work"/>.</summary>
    public Claim Reserve(string destinationPath, WorkFiles work, long size)
    {
        var partialPath = work.Partial;
        var folder = Path.GetDirectoryName(partialPath)!;
        var present = Math.Min(PartialLength(partialPath), size);
        var needed = size - present;
        var available = needed > 0 ? AvailableBytes(folder) : null;
        if (available is not null) NoteAllocated(folder);
        lock (_gate)
        {
            var promised = PromisedLocked(folder);
            if (available is { } free && free - promised < needed)
                throw new XetInsufficientDiskSpaceException(destinationPath, needed, free, promised);
            var claim = new Claim(this, folder, partialPath, size, present);
            _claims.Add(claim);
            return claim;
        }
    }

    /// <summary>Bytes the live claims on the folder of <paramref name="destinationPath"/>'s work files have yet to write.</summary>
    internal long Outstanding(string destinationPath, string repoPath)
    {
        var folder = Path.GetDirectoryName(ResumeJournal.PartialPathFor(destinationPath, repoPath))!;
        lock (_gate) return PromisedLocked(folder);
    }

    /// <summary>
    /// Reads, outside the lock (it is I/O), how long the partial files of the live claims on <paramref name="folder"/>
    /// are: a writer gives its partial file the whole size before writing (<see cref="Preallocation"/>), and those
    /// blocks have left the free space already, so they must not be counted again as still to be written.
    /// </summary>
    private void NoteAllocated(string folder)
    {
        List<Claim> live;
        lock (_gate) live = _claims.FindAll(c => string.Equals(c.Folder, folder, StringComparison.Ordinal));
        foreach (var claim in live) claim.NoteOnDisk(PartialLength(claim.PartialPath));
    }

    /// <summary>What the live claims on <paramref name="folder"/> have yet to write (lock held by the caller).</summary>
    private long PromisedLocked(string folder)
    {
        long promised = 0;
        foreach (var claim in _claims)
            if (string.Equals(claim.Folder, folder, StringComparison.Ordinal)) promised += claim.Outstanding;
        return promised;
    }

    /// <summary>
    /// Bytes free to this user on the volume that holds <paramref name="path"/> (or its nearest existing parent
    /// folder); null when that cannot be known.
    /// </summary>
    public static long? AvailableBytes(string path)
    {
        try
        {
            var existing = Path.GetFullPath(path);
            while (!Directory.Exists(existing))
            {
                existing = Path.GetDirectoryName(existing);
                if (string.IsNullOrEmpty(existing)) return null;
            }
            // Windows names a volume by its drive root ("D:\"); elsewhere any path on it will do (statvfs).
            var volume = Path.DirectorySeparatorChar == '\\' ? Path.GetPathRoot(existing) : existing;
            if (string.IsNullOrEmpty(volume)) return null;
            var drive = new DriveInfo(volume);
            // A volume with no capacity at all (/proc, some FUSE mounts) says nothing about what a write can use.
            return drive.TotalSize > 0 ? drive.AvailableFreeSpace : null;
        }
        catch (Exception e) when (e is ArgumentException or IOException or UnauthorizedAccessException or NotSupportedException
                                      or System.Security.SecurityException)
        {
            return null;
        }
    }

    private static long PartialLength(string partialPath)
    {
        try
        {
            var info = new FileInfo(partialPath);
            return info.Exists ? info.Length : 0;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return 0;
        }
    }

    private void Release(Claim claim)
    {
        lock (_gate) _claims.Remove(claim);
    }

    /// <summary>
    /// One download's room: its size and how far it has written (from its progress reports) or allocated (its partial
    /// file's length when last read), so what it has yet to take shrinks as its blocks leave the volume's free space.
    /// </summary>
    internal sealed class Claim : IDisposable
    {
        private readonly DiskSpaceLedger _ledger;
        private readonly long _size;
        private long _written;
        private long _onDisk;
        private int _released;

        public Claim(DiskSpaceLedger ledger, string folder, string partialPath, long size, long written)
        {
            _ledger = ledger;
            Folder = folder;
            PartialPath = partialPath;
            _size = size;
            _written = written;
        }

        public string Folder { get; }

        public string PartialPath { get; }

        public long Outstanding => Math.Max(0, _size - Math.Max(Volatile.Read(ref _written), Volatile.Read(ref _onDisk)));

        /// <summary>The partial file's length as just read: bytes of the volume it holds already.</summary>
        public void NoteOnDisk(long length) => Volatile.Write(ref _onDisk, length);

        /// <summary>Forwards <paramref name="inner"/>'s reports and keeps the written count from them.</summary>
        public IProgress<FileProgress> Track(IProgress<FileProgress>? inner) => new Tracking(this, inner);

        public void Dispose()
        {
            if (Interlocked.Exchange(ref _released, 1) == 0) _ledger.Release(this);
        }

        private sealed class Tracking : IProgress<FileProgress>
        {
            private readonly Claim _claim;
            private readonly IProgress<FileProgress>? _inner;

            public Tracking(Claim claim, IProgress<FileProgress>? inner)
            {
                _claim = claim;
                _inner = inner;
            }

            public void Report(FileProgress value)
            {
                Volatile.Write(ref _claim._written, value.BytesWritten);
                _inner?.Report(value);
            }
        }
    }
}
