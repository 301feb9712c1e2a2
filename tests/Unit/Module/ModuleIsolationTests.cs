using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;

namespace XetPs.Tests.Module;

/// <summary>
/// The module in a PowerShell 7 process that already holds another version of one of its dependencies. Runs the
/// tools/ps host as a child process: inside this test process the engine is already loaded by the test project
/// itself, so only a clean process shows where the module puts it.
/// </summary>
public sealed class ModuleIsolationTests : IClassFixture<SampleHub>
{
    private readonly SampleHub _hub;

    public ModuleIsolationTests(SampleHub hub) => _hub = hub;

    [Fact]
    public void The_engine_and_its_dependencies_load_in_their_own_context_beside_an_older_Logging_Abstractions()
    {
        var older = Path.Combine(ModuleRunspace.Metadata("XetPsNuGetRoot"), "microsoft.extensions.logging.abstractions", "6.0.0", "lib",
            "netstandard2.0", "Microsoft.Extensions.Logging.Abstractions.dll");
        Assert.True(File.Exists(older), $"the test project downloads {older}");
        using var destination = new ScratchFolder();
        var script =
            $"$null = [System.Reflection.Assembly]::LoadFrom('{older}'); " +
            $"Get-XetFileList -Repo xetps/sample -Include *.json -Endpoint '{_hub.Endpoint}' | Save-XetFile -Destination '{destination.Path}' -PassThru | ForEach-Object {{ 'saved ' + $_.Name }}; " +
            "[AppDomain]::CurrentDomain.GetAssemblies() | Where-Object { $_.GetName().Name -in 'XetPs.Engine', 'Polly.Core', 'Microsoft.Extensions.Logging.Abstractions' } | " +
            "ForEach-Object { $_.GetName().Name + ' ' + $_.GetName().Version.Major + ' ' + [System.Runtime.Loader.AssemblyLoadContext]::GetLoadContext($_).Name }";

        var outcome = HostProcess.Run("-Command", script);

        Assert.True(outcome.ExitCode == 0, outcome.ToString());
        var lines = outcome.Stdout.Split('\n').Select(l => l.Trim()).ToList();
        Assert.Contains("saved config.json", lines);
        Assert.Contains("XetPs.Engine 0 XetPs.Dependencies", lines);
        Assert.Contains("Polly.Core 8 XetPs.Dependencies", lines);
        Assert.Contains("Microsoft.Extensions.Logging.Abstractions 8 XetPs.Dependencies", lines);
        Assert.Contains("Microsoft.Extensions.Logging.Abstractions 6 Default", lines);
    }

    /// <summary>
    /// A script that catches the engine's error by type and reports which copies of the module's assemblies are
    /// loaded, and in which context.
    /// </summary>
    private string CatchByType(string destination) =>
        $"try {{ Save-XetFile -Repo xetps/sample -Path no/such/file.bin -Endpoint '{_hub.Endpoint}' -Destination '{destination}' }} " +
        "catch [XetPs.XetFileNotFoundException] { 'caught ' + ($_.Exception -is [XetPs.XetFileNotFoundException]) }; " +
        "[AppDomain]::CurrentDomain.GetAssemblies() | Where-Object { $_.GetName().Name -in 'XetPs.Errors', 'XetPs.Engine' } | " +
        "ForEach-Object { $_.GetName().Name + ' ' + [System.Runtime.Loader.AssemblyLoadContext]::GetLoadContext($_).Name }";

    [Fact]
    public void The_engines_exceptions_are_the_types_a_script_names_from_the_default_context()
    {
        // PowerShell resolves type names only in the default context, where the engine does not load: the exception
        // types live there once, in XetPs.Errors, and the isolated engine throws that very copy.
        using var destination = new ScratchFolder();

        var outcome = HostProcess.Run("-Command", CatchByType(destination.Path));

        Assert.True(outcome.ExitCode == 0, outcome.ToString());
        var lines = outcome.Stdout.Split('\n').Select(l => l.Trim()).Where(l => l.Length > 0).ToList();
        Assert.Equal(new[] { "XetPs.Engine XetPs.Dependencies", "XetPs.Errors Default", "caught True" }, lines.OrderBy(l => l, StringComparer.Ordinal));
    }

    [Fact]
    public void A_copy_of_the_exception_types_among_the_dependencies_is_never_loaded()
    {
        // A module folder with XetPs.Errors in core/Dependencies too (a stale file, a hand-made copy): the isolated
        // context must still take the default context's copy, or the engine would throw types no script can catch.
        using var copy = new ScratchFolder();
        var module = Path.Combine(copy.Path, "XetPs");
        CopyFolder(ModuleRunspace.ModuleDirectory, module);
        File.Copy(Path.Combine(module, "core", "XetPs.Errors.dll"), Path.Combine(module, "core", "Dependencies", "XetPs.Errors.dll"));
        using var destination = new ScratchFolder();

        var outcome = HostProcess.Run(new Dictionary<string, string> { ["XETPS_MODULE_PATH"] = module }, "-Command", CatchByType(destination.Path));

        Assert.True(outcome.ExitCode == 0, outcome.ToString());
        var lines = outcome.Stdout.Split('\n').Select(l => l.Trim()).Where(l => l.Length > 0).ToList();
        Assert.Equal(new[] { "XetPs.Engine XetPs.Dependencies", "XetPs.Errors Default", "caught True" }, lines.OrderBy(l => l, StringComparer.Ordinal));
    }

    /// <summary>This process's .NET and platform, as the module names its ReadyToRun sets: r2r/net10.0/linux-x64.</summary>
    private static string ImagesFolder(string module) => Path.Combine(module, "core", "Dependencies", "r2r",
        $"net{Environment.Version.Major}.0",
        $"{(OperatingSystem.IsWindows() ? "win" : OperatingSystem.IsMacOS() ? "osx" : "linux")}-{System.Runtime.InteropServices.RuntimeInformation.ProcessArchitecture.ToString().ToLowerInvariant()}");

    private const string EngineLocation =
        "[System.AppDomain]::CurrentDomain.GetAssemblies() | Where-Object { $_.GetName().Name -in 'XetPs.Engine', 'K4os.Compression.LZ4', 'Polly.Core' } | " +
        "ForEach-Object { $_.GetName().Name + ' ' + $_.Location }";

    [Fact]
    public void On_PowerShell_7_the_engine_LZ4_and_Polly_run_from_the_ReadyToRun_images_built_for_this_dotnet_and_platform()
    {
        using var destination = new ScratchFolder();
        var images = ImagesFolder(ModuleRunspace.ModuleDirectory);
        var script = $"Save-XetFile -Repo xetps/sample -Path model.safetensors -Endpoint '{_hub.Endpoint}' -Destination '{destination.Path}'; " + EngineLocation;

        var outcome = HostProcess.Run("-Command", script);

        Assert.True(outcome.ExitCode == 0, outcome.ToString());
        var lines = outcome.Stdout.Split('\n').Select(l => l.Trim()).ToList();
        Assert.Contains("XetPs.Engine " + Path.Combine(images, "XetPs.Engine.dll"), lines);
        Assert.Contains("K4os.Compression.LZ4 " + Path.Combine(images, "K4os.Compression.LZ4.dll"), lines);
        // Polly.Core has an asset for .NET 10 besides the net8.0 one the module ships: the image must be of the latter.
        Assert.Contains("Polly.Core " + Path.Combine(images, "Polly.Core.dll"), lines);
    }

    [Fact]
    public void A_ReadyToRun_image_of_another_build_is_passed_over_for_the_IL_beside_it()
    {
        // A module folder whose engine image is not the engine's (a stale file left by an earlier build, say).
        using var copy = new ScratchFolder();
        var module = Path.Combine(copy.Path, "XetPs");
        CopyFolder(ModuleRunspace.ModuleDirectory, module);
        var images = ImagesFolder(module);
        File.Copy(Path.Combine(images, "Polly.Core.dll"), Path.Combine(images, "XetPs.Engine.dll"), overwrite: true);
        using var destination = new ScratchFolder();
        var script = $"Save-XetFile -Repo xetps/sample -Path config.json -Endpoint '{_hub.Endpoint}' -Destination '{destination.Path}'; " + EngineLocation;

        var outcome = HostProcess.Run(new Dictionary<string, string> { ["XETPS_MODULE_PATH"] = module }, "-Command", script);

        Assert.True(outcome.ExitCode == 0, outcome.ToString());
        var lines = outcome.Stdout.Split('\n').Select(l => l.Trim()).ToList();
        Assert.Contains("XetPs.Engine " + Path.Combine(module, "core", "Dependencies", "XetPs.Engine.dll"), lines);
        Assert.True(File.Exists(Path.Combine(destination.Path, "config.json")));
    }

    private static void CopyFolder(string from, string to)
    {
        Directory.CreateDirectory(to);
        foreach (var directory in Directory.GetDirectories(from, "*", SearchOption.AllDirectories))
            Directory.CreateDirectory(Path.Combine(to, Path.GetRelativePath(from, directory)));
        foreach (var file in Directory.GetFiles(from, "*", SearchOption.AllDirectories))
            File.Copy(file, Path.Combine(to, Path.GetRelativePath(from, file)));
    }

    [Fact]
    public void The_netstandard2_0_build_throws_the_exception_types_a_script_names()
    {
        // The same contract on the edition without load contexts: XetPs.Errors binds from desktop/ and loads on import.
        var desktop = Path.Combine(ModuleRunspace.ModuleDirectory, "desktop");
        using var destination = new ScratchFolder();
        var script =
            "[XetPs.XetFileNotFoundException].Assembly.Location; " +
            $"try {{ Save-XetFile -Repo xetps/sample -Path no/such/file.bin -Endpoint '{_hub.Endpoint}' -Destination '{destination.Path}' }} " +
            "catch [XetPs.XetFileNotFoundException] { 'caught ' + ($_.Exception -is [XetPs.XetFileNotFoundException]) + ' ' + $_.FullyQualifiedErrorId }";

        var outcome = HostProcess.Run(new Dictionary<string, string> { ["XETPS_MODULE_PATH"] = Path.Combine(desktop, "XetPs.dll") }, "-Command", script);

        Assert.True(outcome.ExitCode == 0, outcome.ToString());
        var lines = outcome.Stdout.Split('\n').Select(l => l.Trim()).Where(l => l.Length > 0).ToList();
        Assert.Equal(new[] { Path.Combine(desktop, "XetPs.Errors.dll"), "caught True XetFileNotFound,XetPs.Commands.SaveXetFileCommand" }, lines);
    }

    [Fact]
    public void The_netstandard2_0_build_that_Windows_PowerShell_loads_also_lists_and_downloads()
    {
        // Windows PowerShell 5.1 is not available here; this runs the same assembly and dependency folder on .NET,
        // which is what PowerShell 7.0-7.3 load (the loader picks desktop/ there).
        var desktop = Path.Combine(ModuleRunspace.ModuleDirectory, "desktop", "XetPs.dll");
        using var destination = new ScratchFolder();
        var script =
            $"Get-XetFileList -Repo xetps/sample -Recurse -Endpoint '{_hub.Endpoint}' | Save-XetFile -Destination '{destination.Path}' -PassThru | ForEach-Object {{ $_.Name + ' ' + $_.Length }}; " +
            "[XetPs.XetFileEntry].Assembly.Location";

        var outcome = HostProcess.Run(new Dictionary<string, string> { ["XETPS_MODULE_PATH"] = desktop }, "-Command", script);

        Assert.True(outcome.ExitCode == 0, outcome.ToString());
        var lines = outcome.Stdout.Split('\n').Select(l => l.Trim()).ToList();
        Assert.Contains(desktop, lines);
        foreach (var file in _hub.SampleFiles)
            Assert.Contains($"{Path.GetFileName(file.Path)} {file.Size}", lines);
    }
}
