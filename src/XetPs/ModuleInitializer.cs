using System;
using System.IO;
using System.Management.Automation;
using System.Reflection;
using System.Runtime.CompilerServices;
#if NET8_0_OR_GREATER
using System.Runtime.Loader;
#endif

namespace XetPs;

/// <summary>
/// Makes the engine loadable when the module is imported, without letting its third-party dependencies collide with
/// other modules' copies in the same session.
/// PowerShell 7 (net8.0 build): the cmdlet assembly sits in <c>core/</c> with XetPs.Errors (the exception types);
/// XetPs.Engine and everything it needs (Polly.Core, K4os LZ4, Logging.Abstractions, ...) sit in
/// <c>core/Dependencies/</c> and load into one private <see cref="DependencyLoadContext"/>. The default context is
/// asked for "XetPs.Engine" (when the cmdlets first touch an engine type) and hands that request to the private
/// context, which then resolves the engine's own references from the same folder, except XetPs.Errors, which it takes
/// from the default context. Invariant: the cmdlet assembly references no third-party type, so no type crosses
/// between the two contexts except the engine's own and the exception types, which exist once, in the default one.
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
        AssemblyLoadContext.Default.Resolving += ResolveModuleAssembly;
#else
        AppDomain.CurrentDomain.AssemblyResolve += ResolveShippedDependency;
#endif
        LoadErrorTypes();
    }

    public void OnRemove(PSModuleInfo psModuleInfo)
    {
#if NET8_0_OR_GREATER
        AssemblyLoadContext.Default.Resolving -= ResolveModuleAssembly;
#else
        AppDomain.CurrentDomain.AssemblyResolve -= ResolveShippedDependency;
#endif
    }

    /// <summary>
    /// PowerShell resolves a type name (<c>catch [XetPs.XetHashMismatchException]</c>) only among the assemblies already
    /// loaded, so the exception types load with the module, not with the first error. A method of its own, called
    /// after the handler above is in place: the type is resolved when this method is compiled.
    /// </summary>
    [MethodImpl(MethodImplOptions.NoInlining)]
    private static void LoadErrorTypes() => GC.KeepAlive(typeof(XetFileNotFoundException).Assembly);

#if NET8_0_OR_GREATER
    private static Assembly? ResolveModuleAssembly(AssemblyLoadContext context, AssemblyName name)
    {
        // The engine is bridged to the private context; the exception types load here, in the default one, from
        // beside this assembly. Every other name stays the default context's business.
        if (string.Equals(name.Name, "XetPs.Engine", StringComparison.Ordinal))
            return DependencyLoadContext.For(Path.Combine(ModuleAssemblyDirectory, "Dependencies")).LoadFromAssemblyName(name);
        if (string.Equals(name.Name, "XetPs.Errors", StringComparison.Ordinal))
        {
            var path = Path.Combine(ModuleAssemblyDirectory, "XetPs.Errors.dll");
            return File.Exists(path) ? context.LoadFromAssemblyPath(path) : null;
        }
        return null;
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
