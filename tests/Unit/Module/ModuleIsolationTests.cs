using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using System.Reflection;

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
        var older = Path.Combine(Metadata("XetPsNuGetRoot"), "microsoft.extensions.logging.abstractions", "6.0.0", "lib",
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

    private static string Metadata(string key) =>
        typeof(ModuleIsolationTests).Assembly.GetCustomAttributes<AssemblyMetadataAttribute>().First(a => a.Key == key).Value!;
}
