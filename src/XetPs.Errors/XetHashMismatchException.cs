using System.IO;

namespace XetPs;

/// <summary>
/// The bytes rebuilt for a file do not hash to its Xet file id (or its sha256 for plain files): a corrupted chunk,
/// a lying server or a damaged resumed prefix. Nothing reaches the destination.
/// </summary>
public sealed class XetHashMismatchException : IOException
{
    public XetHashMismatchException(string path, string expected, string actual)
        : base($"The downloaded bytes of '{path}' do not match its hash: expected {expected}, computed {actual}. " +
               "The file was not written.")
    {
        Path = path;
        Expected = expected;
        Actual = actual;
    }

    /// <summary>
    /// Two answers of CAS placed different chunks at the same bytes of the file: the one written (and hashed) there, and
    /// a later one serving those bytes again. One of them is wrong, so the download cannot be trusted.
    /// </summary>
    public XetHashMismatchException(string path, long offset, int length, string written, string served)
        : base($"CAS served two different chunks for bytes {offset}-{offset + length - 1} of '{path}': the file holds chunk " +
               $"{written} there, a later answer gave {served}. The file was not written.")
    {
        Path = path;
        Expected = written;
        Actual = served;
    }

    /// <summary>The repo path of the file.</summary>
    public string Path { get; }

    public string Expected { get; }

    public string Actual { get; }
}
