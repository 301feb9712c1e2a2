using System;
using System.IO;
using System.Management.Automation;
using XetPs.Cache;

namespace XetPs.Commands;

/// <summary>
/// The Hugging Face cache a cmdlet works on: its -CacheDirectory (a file-system path, relative to the current
/// location), else the one huggingface_hub uses in this environment (<see cref="HubCache.FromEnvironment"/>). Bad input
/// is an <see cref="ArgumentException"/> the cmdlet reports as XetInvalidArgument, before any work.
/// </summary>
internal static class CacheFolder
{
    public static HubCache Resolve(SessionState session, string? cacheDirectory)
    {
        string? folder = null;
        if (cacheDirectory is not null)
        {
            try
            {
                folder = session.Path.GetUnresolvedProviderPathFromPSPath(cacheDirectory, out var provider, out _);
                if (provider.Name != "FileSystem")
                    throw new ArgumentException($"The cache directory '{cacheDirectory}' is not a file-system path.", nameof(cacheDirectory));
            }
            catch (Exception e) when (e is NotSupportedException or ProviderNotFoundException or System.Management.Automation.DriveNotFoundException)
            {
                throw new ArgumentException($"The cache directory '{cacheDirectory}' is not a file-system path: {e.Message}", nameof(cacheDirectory), e);
            }
        }
        var cache = HubCache.FromEnvironment(Environment.GetEnvironmentVariables(), folder);
        if (File.Exists(cache.Root))
            throw new ArgumentException($"The cache directory '{cache.Root}' is a file; the Hugging Face cache is a folder.", nameof(cacheDirectory));
        return cache;
    }
}
