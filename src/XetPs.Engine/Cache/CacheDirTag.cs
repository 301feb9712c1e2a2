using System;
using System.IO;

namespace XetPs.Cache;

/// <summary>
/// The <c>CACHEDIR.TAG</c> huggingface_hub puts in the cache folder (and in a local dir's <c>.cache/huggingface</c>), so
/// backup tools that follow the Cache Directory Tagging Standard skip it. Written once, best effort.
/// </summary>
internal static class CacheDirTag
{
    /// <summary>huggingface_hub's text: the standard's signature line first, then its comment.</summary>
    public const string Content =
        "Signature: 8a477f597d28d172789f06886806bc55\n" +
        "# This file is a cache directory tag created by huggingface_hub.\n" +
        "# For information about cache directory tags, see:\n" +
        "#\thttps://bford.info/cachedir/\n";

    public static void Ensure(string folder)
    {
        var path = Path.Combine(folder, "CACHEDIR.TAG");
        if (File.Exists(path)) return;
        try
        {
            Directory.CreateDirectory(folder);
            File.WriteAllText(path, Content);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            // Only backup tools miss it.
        }
    }
}
