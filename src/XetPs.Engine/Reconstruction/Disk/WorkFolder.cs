using System;
using System.IO;
using System.Text;
using Microsoft.Win32.SafeHandles;

namespace XetPs.Reconstruction;

/// <summary>
/// XetPs's working folder under a destination root, <c>&lt;root&gt;/.cache/xetps</c> (partial files, journals, plain-file
/// markers, records), and the only way files there are created or opened for writing. Invariant: no link is followed
/// at any path XetPs creates or opens for writing there. The folders from <c>.cache</c> down are real folders, and every
/// file is either created new or proven, once open, to be the name's own regular file with no other name.
/// Why refuse (<see cref="UnsafeWorkPathException"/>) rather than replace a link: XetPs never makes one there, so a
/// link comes from an archive, a checkout, a copied or shared folder, or from someone who wants our writes to land on
/// another file. Following it would truncate that file and fill it with model bytes; deleting it quietly would hide
/// that the folder was tampered with. A demanding user wants to hear about it: the error names the path, and removing
/// it is all it takes.
/// How, without a window between check and open: a new file is created with CreateNew (O_CREAT|O_EXCL), which never
/// follows a link and fails if anything appeared at the name (an earlier file is deleted first; deleting a name never
/// touches what it points to). A file reopened (to resume, or a record) is opened without creating, then proven to be
/// the name's own entry: on Linux, the same device and inode as the name's lstat. Where the platform gives no identity
/// (Windows, macOS) the name is checked before and after the open; on Windows creating a symbolic link needs a
/// privilege or developer mode, and a junction can only name a folder.
/// The folders are checked when a download prepares them, not at every open: a folder swapped for a link in between
/// could only make us create files with XetPs's own names (32 hex digits, or a repo path, with our suffixes) elsewhere,
/// never overwrite an existing one, since a file reopened must then still pass the check above.
/// The destination itself is not in the working folder: a link there is replaced by the rename that puts the finished
/// file in place, never written through.
/// </summary>
internal static partial class WorkFolder
{
    /// <summary><c>&lt;root&gt;/.cache/xetps</c>.</summary>
    public static string PathFor(string root) => Path.Combine(root, ".cache", "xetps");

    /// <summary>
    /// Creates what is missing of the folders from <c>&lt;root&gt;/.cache</c> down to the folder of
    /// <paramref name="workPath"/> (a path under <see cref="PathFor"/>), and refuses any of them that is a link.
    /// The root itself is the user's choice and may be a link.
    /// </summary>
    public static void Prepare(string root, string workPath)
    {
        var cache = Path.Combine(root, ".cache");
        var work = PathFor(root);
        var folder = Path.GetDirectoryName(Path.GetFullPath(workPath)) ?? throw new ArgumentException("A work path names a file.", nameof(workPath));
        var workFull = Path.GetFullPath(work);
        if (!folder.Equals(workFull, StringComparison.Ordinal) && !folder.StartsWith(workFull + Path.DirectorySeparatorChar, StringComparison.Ordinal))
            throw new ArgumentException($"'{workPath}' is not under the working folder '{work}'.", nameof(workPath));
        if (root.Length > 0) Directory.CreateDirectory(root);
        EnsureFolder(cache);
        EnsureFolder(work);
        var below = workFull;
        foreach (var segment in folder.Substring(workFull.Length).Split(new[] { Path.DirectorySeparatorChar }, StringSplitOptions.RemoveEmptyEntries))
        {
            below = Path.Combine(below, segment);
            EnsureFolder(below);
        }
    }

    /// <summary>
    /// Opens <paramref name="path"/> with <paramref name="mode"/>'s meaning (Create: a new empty file in place of any
    /// earlier one; Open: the existing file; OpenOrCreate: the existing file, or a new one), never through a link.
    /// </summary>
    public static FileStream OpenStream(string path, FileMode mode, FileAccess access, FileShare share, int bufferSize, FileOptions options) =>
        Open(path, mode, actual => new FileStream(path, actual, access, share, bufferSize, options), stream => stream.SafeFileHandle);

    /// <summary>Writes <paramref name="text"/> (UTF-8) as the whole content of a new file at <paramref name="path"/>.</summary>
    public static void WriteAllText(string path, string text)
    {
        var bytes = new UTF8Encoding(encoderShouldEmitUTF8Identifier: false).GetBytes(text);
        using var stream = OpenStream(path, FileMode.Create, FileAccess.Write, FileShare.Read, 4096, FileOptions.None);
        stream.Write(bytes, 0, bytes.Length);
    }

    /// <summary>Deletes the file at <paramref name="path"/> if there is one; a link there is refused like everywhere else.</summary>
    public static void Delete(string path)
    {
        var entry = FileEntry.Inspect(path);
        if (entry.Kind == EntryKind.Missing) return;
        RefuseUnlessOwnFile(path, entry);
        File.Delete(path);
    }

    /// <summary>True when <paramref name="path"/> is a link (symbolic link, junction), dangling or not.</summary>
    public static bool IsLink(string path) => FileEntry.Inspect(path).Kind == EntryKind.Link;

    private static T Open<T>(string path, FileMode mode, Func<FileMode, T> open, Func<T, SafeFileHandle> handleOf) where T : IDisposable
    {
        if (mode is not (FileMode.Create or FileMode.Open or FileMode.OpenOrCreate))
            throw new ArgumentOutOfRangeException(nameof(mode), mode, "A work file is created, opened, or opened or created.");
        for (var attempt = 1; ; attempt++)
        {
            var entry = FileEntry.Inspect(path);
            RefuseUnlessOwnFile(path, entry);
            FileMode actual;
            if (entry.Kind == EntryKind.Missing)
            {
                actual = mode == FileMode.Open ? FileMode.Open : FileMode.CreateNew;
            }
            else if (mode == FileMode.Create && entry.Kind == EntryKind.File)
            {
                File.Delete(path);
                actual = FileMode.CreateNew;
            }
            else
            {
                actual = FileMode.Open;
            }

            T file;
            try
            {
                file = open(actual);
            }
            catch (IOException) when (attempt < 3 && FileEntry.Inspect(path).Kind != entry.Kind)
            {
                continue; // something appeared at the name, or went away, since it was looked at: look again
            }
            try
            {
                CheckOpened(path, handleOf(file));
                return file;
            }
            catch
            {
                file.Dispose();
                throw;
            }
        }
    }

    /// <summary>Proves that the file open is the name's own: the same file (where identities are known) and still no link.</summary>
    private static void CheckOpened(string path, SafeFileHandle handle)
    {
        var opened = FileEntry.Of(handle);
        var named = FileEntry.Inspect(path);
        RefuseUnlessOwnFile(path, named);
        RefuseUnlessOwnFile(path, opened);
        if (opened.HasIdentity && named.HasIdentity && !opened.IsSameFile(named))
            throw new UnsafeWorkPathException(path, "a link, or it was replaced while it was being opened (the file opened is not the one of that name)");
    }

    private static void RefuseUnlessOwnFile(string path, FileEntry entry)
    {
        switch (entry.Kind)
        {
            case EntryKind.Link:
                throw new UnsafeWorkPathException(path, "a link (a symbolic link or junction)");
            case EntryKind.Special:
                throw new UnsafeWorkPathException(path, "not a regular file (a FIFO, socket or device)");
            case EntryKind.File when entry.HasIdentity && entry.Links > 1:
                throw new UnsafeWorkPathException(path, $"a file with {entry.Links} names (hard links), so writing it would change the others too");
        }
    }

    private static void EnsureFolder(string folder)
    {
        var kind = FileEntry.Inspect(folder).Kind;
        if (kind == EntryKind.Missing)
        {
            Directory.CreateDirectory(folder); // its parent is checked already: this makes one folder
            kind = FileEntry.Inspect(folder).Kind;
        }
        if (kind == EntryKind.Link)
            throw new UnsafeWorkPathException(folder, "a link to another folder (a symbolic link or junction), not a folder of its own");
        if (kind != EntryKind.Folder)
            throw new IOException($"'{folder}' is in the way of XetPs's working folder: it is a file, not a folder.");
    }
}
