using System;
using System.IO;
using System.Management.Automation;
using System.Reflection;
#if NET8_0_OR_GREATER
using System.Runtime.Loader;
#endif

namespace XetPs;

/// <summary>
/// Makes the engine loadable when the module is imported, without letting its third-party dependencies collide with
/// other modules' copies in the same session.
/// PowerShell 7 (net8.0 build): the cmdlet assembly sits alone in <c>core/</c>; XetPs.Engine and everything it needs
/// (Polly.Core, K4os LZ4, Logging.Abstractions, ...) sit in <c>core/Dependencies/</c> and load into one private
/// <see cref="DependencyLoadContext"/>. The default context is asked only for "XetPs.Engine" (when the cmdlets first
/// touch an engine type) and hands that request to the private context, which then resolves the engine's own
/// references from the same folder. Invariant: the cmdlet assembly references no third-party type, so no type
/// crosses between the two contexts except the engine's own.
/// Windows PowerShell 5.1 (netstandard2.0 build): .NET Framework has one load context per AppDomain, so isolation is
/// impossible; the handler only binds our dependencies by simple name from <c>desktop/</c>, which stands in for the
/// binding redirects a PowerShell module cannot ship. If another module loaded a different version of the same
/// assembly first, that copy wins (see README, "Windows PowerShell 5.1").
/// </summary>
public sealed class ModuleInitializer : IModuleAssemblyInitializer, IModuleAssemblyCleanup
{
    private static readonly string ModuleAssemblyDirectory =
        Path.GetDirectoryName(typeof(ModuleInitializer).Assembly.Location) ?? AppContext.BaseDirectory;

    public void OnImport()
    {
#if NET8_0_OR_GREATER
        AssemblyLoadContext.Default.Resolving += ResolveEngine;
#else
        AppDomain.CurrentDomain.AssemblyResolve += ResolveShippedDependency;
#endif
    }

    public void OnRemove(PSModuleInfo psModuleInfo)
    {
#if NET8_0_OR_GREATER
        AssemblyLoadContext.Default.Resolving -= ResolveEngine;
#else
        AppDomain.CurrentDomain.AssemblyResolve -= ResolveShippedDependency;
#endif
    }

#if NET8_0_OR_GREATER
    private static Assembly? ResolveEngine(AssemblyLoadContext context, AssemblyName name)
    {
        // Only the engine is bridged; every other name stays the default context's business.
        if (!string.Equals(name.Name, "XetPs.Engine", StringComparison.Ordinal)) return null;
        return DependencyLoadContext.For(Path.Combine(ModuleAssemblyDirectory, "Dependencies")).LoadFromAssemblyName(name);
    }
#else
    private static Assembly? ResolveShippedDependency(object? sender, ResolveEventArgs args)
    {
        var simpleName = new AssemblyName(args.Name).Name;
        if (string.IsNullOrEmpty(simpleName) || simpleName == "XetPs") return null;
        var candidate = Path.Combine(ModuleAssemblyDirectory, simpleName + ".dll");
        return File.Exists(candidate) ? Assembly.LoadFrom(candidate) : null;
    }
#endif
}
