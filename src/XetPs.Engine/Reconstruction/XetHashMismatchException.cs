using System.IO;

namespace XetPs.Reconstruction;

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

    /// <summary>The repo path of the file.</summary>
    public string Path { get; }

    public string Expected { get; }

    public string Actual { get; }
}
