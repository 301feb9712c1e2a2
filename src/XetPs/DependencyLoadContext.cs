#if NET8_0_OR_GREATER
using System;
using System.Collections.Concurrent;
using System.IO;
using System.Reflection;
using System.Runtime.Loader;

namespace XetPs;

/// <summary>
/// The private load context of the engine and its dependencies on PowerShell 7 (see <see cref="ModuleInitializer"/>).
/// Invariant: an assembly whose file is in the dependency folder is always loaded from there, whatever version the
/// default context already holds; anything else (the framework) falls back to the default context.
/// One instance per folder for the life of the process: a context cannot be unloaded while the engine is in use,
/// and Remove-Module followed by Import-Module must find the same engine types again.
/// </summary>
internal sealed class DependencyLoadContext : AssemblyLoadContext
{
    private static readonly ConcurrentDictionary<string, DependencyLoadContext> Contexts = new(StringComparer.Ordinal);
    private readonly string _directory;

    private DependencyLoadContext(string directory) : base("XetPs.Dependencies", isCollectible: false)
    {
        _directory = directory;
    }

    public static DependencyLoadContext For(string directory) =>
        Contexts.GetOrAdd(Path.GetFullPath(directory), d => new DependencyLoadContext(d));

    protected override Assembly? Load(AssemblyName assemblyName)
    {
        if (string.IsNullOrEmpty(assemblyName.Name)) return null;
        var candidate = Path.Combine(_directory, assemblyName.Name + ".dll");
        return File.Exists(candidate) ? LoadFromAssemblyPath(candidate) : null;
    }
}
#endif
