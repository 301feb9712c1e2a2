using System.IO;

namespace XetPs;

/// <summary>A different file is already at the destination and overwriting was not asked for.</summary>
public sealed class XetDestinationExistsException : IOException
{
    public XetDestinationExistsException(string destinationPath)
        : base($"'{destinationPath}' already exists and differs from the repository file; use -Force (Overwrite) to replace it.")
    {
        DestinationPath = destinationPath;
    }

    public string DestinationPath { get; }
}
