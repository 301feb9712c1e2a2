using System.IO;

namespace XetPs.Reconstruction;

/// <summary>
/// Where one download keeps its work until the file is complete: the partial file (moved onto the destination once
/// verified, so it lives on the destination's file system) and the journal that lets a later run resume it (for a plain
/// file, its resume marker). A plain destination keeps both under <c>&lt;root&gt;/.cache/xetps</c>
/// (<see cref="Beside"/>); the Hugging Face cache puts the partial where huggingface_hub does
/// (<c>blobs/&lt;etag&gt;.incomplete</c>) and the journal where no cache scanner looks.
/// <see cref="LengthIsWritten"/>: other clients may take the partial file's length for the bytes written so far (older
/// huggingface_hub resumes an HTTP download from it), so it is never given blocks ahead of its bytes (no preallocation,
/// no direct writes, whose last stage is padded): after any stop its length is a prefix of the file.
/// <see cref="Root"/>: the destination root whose working folder holds them, where no link may be followed on the way
/// (see <see cref="WorkFolder"/>); null in the Hugging Face cache, whose folders are the cache's own.
/// </summary>
internal sealed record WorkFiles(string Partial, string Journal, bool LengthIsWritten = false, string? Root = null)
{
    /// <summary>The work files of <paramref name="destinationPath"/> (which holds <paramref name="repoPath"/>) under its root.</summary>
    public static WorkFiles Beside(string destinationPath, string repoPath) =>
        new(ResumeJournal.PartialPathFor(destinationPath, repoPath), ResumeJournal.JournalPathFor(destinationPath, repoPath),
            Root: LocalFileRecord.Locate(destinationPath, repoPath).Root);

    /// <summary>Creates the folders the two files live in; under a destination root, refusing any that is a link.</summary>
    public void Prepare()
    {
        if (Root is not null)
        {
            WorkFolder.Prepare(Root, Partial);
            WorkFolder.Prepare(Root, Journal);
            return;
        }
        Directory.CreateDirectory(Path.GetDirectoryName(Journal)!);
        Directory.CreateDirectory(Path.GetDirectoryName(Partial)!);
    }

    /// <summary>Removes both, best effort: a leftover is harmless, the next run checks it against the file id.</summary>
    public void Delete()
    {
        TryDelete(Partial);
        TryDelete(Journal);
    }

    internal static void TryDelete(string path)
    {
        try
        {
            File.Delete(path);
        }
        catch (IOException)
        {
            // A leftover partial or journal is harmless: the next run checks it against the file id.
        }
        catch (System.UnauthorizedAccessException)
        {
            // Same: harmless leftover.
        }
    }
}
