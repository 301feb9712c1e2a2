#if NET8_0_OR_GREATER
using System;
using System.Collections.Concurrent;
using System.IO;
using System.Reflection;
using System.Reflection.Metadata;
using System.Reflection.PortableExecutable;
using System.Runtime.InteropServices;
using System.Runtime.Loader;

namespace XetPs;

/// <summary>
/// The private load context of the engine and its dependencies on PowerShell 7 (see <see cref="ModuleInitializer"/>).
/// Invariant: an assembly whose file is in the dependency folder is always loaded from there, whatever version the
/// default context already holds; anything else (the framework) falls back to the default context. One exception:
/// XetPs.Errors, the exception types, is always the default context's copy (the cmdlet assembly's), even if a file
/// of that name were in the folder, so the type the engine throws is the one scripts and cmdlets name.
/// Where the build left ReadyToRun images for the running .NET and platform (<c>r2r/net10.0/linux-x64/</c>, see
/// module/ReadyToRun), the image is loaded instead of the IL file of the same name: the same assembly with its code
/// compiled ahead, which .NET uses only when the image was compiled against its own major version. An image is taken
/// only when its module id (MVID) is the IL file's: an image left from an earlier build never stands in for newer code.
/// One instance per folder for the life of the process: a context cannot be unloaded while the engine is in use,
/// and Remove-Module followed by Import-Module must find the same engine types again.
/// </summary>
internal sealed class DependencyLoadContext : AssemblyLoadContext
{
    private static readonly ConcurrentDictionary<string, DependencyLoadContext> Contexts = new(StringComparer.Ordinal);
    private static readonly Assembly ErrorTypes = typeof(XetFileNotFoundException).Assembly;
    private readonly string _directory;
    private readonly string? _images; // this .NET's and platform's ReadyToRun images, or null

    private DependencyLoadContext(string directory) : base("XetPs.Dependencies", isCollectible: false)
    {
        _directory = directory;
        _images = ImagesFolder(directory, Environment.Version.Major, RuntimeInformation.ProcessArchitecture);
    }

    /// <summary>The ReadyToRun images of <paramref name="directory"/> for this .NET and platform, or null when none.</summary>
    private static string? ImagesFolder(string directory, int dotnetMajor, Architecture architecture)
    {
        var os = OperatingSystem.IsWindows() ? "win" : OperatingSystem.IsLinux() ? "linux" : OperatingSystem.IsMacOS() ? "osx" : null;
        var arch = architecture switch { Architecture.X64 => "x64", Architecture.Arm64 => "arm64", _ => null };
        if (os is null || arch is null) return null;
        var folder = Path.Combine(directory, "r2r", $"net{dotnetMajor}.0", $"{os}-{arch}");
        return Directory.Exists(folder) ? folder : null;
    }

    public static DependencyLoadContext For(string directory) =>
        Contexts.GetOrAdd(Path.GetFullPath(directory), d => new DependencyLoadContext(d));

    /// <summary>True when <paramref name="image"/> exists and is the same build of the assembly as <paramref name="il"/>.</summary>
    private static bool SameBuild(string il, string image)
    {
        try
        {
            return File.Exists(image) && ModuleVersionId(il) == ModuleVersionId(image);
        }
        catch (Exception e) when (e is IOException or BadImageFormatException or InvalidOperationException or UnauthorizedAccessException)
        {
            return false; // an unreadable image is no reason to fail: the IL file serves
        }
    }

    private static Guid ModuleVersionId(string path)
    {
        using var stream = File.OpenRead(path);
        using var pe = new PEReader(stream);
        var metadata = pe.GetMetadataReader();
        return metadata.GetGuid(metadata.GetModuleDefinition().Mvid);
    }

    protected override Assembly? Load(AssemblyName assemblyName)
    {
        if (string.IsNullOrEmpty(assemblyName.Name)) return null;
        if (string.Equals(assemblyName.Name, ErrorTypes.GetName().Name, StringComparison.Ordinal)) return ErrorTypes;
        var candidate = Path.Combine(_directory, assemblyName.Name + ".dll");
        if (!File.Exists(candidate)) return null;
        var image = _images is null ? null : Path.Combine(_images, assemblyName.Name + ".dll");
        return LoadFromAssemblyPath(image is not null && SameBuild(candidate, image) ? image : candidate);
    }
}
#endif
