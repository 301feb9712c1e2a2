using System;
using System.Collections.Generic;
using System.Diagnostics;
using System.IO;
using System.Linq;
using System.Text.Json;

namespace XetPs.Tests.Module;

/// <summary>
/// Runs the Pester 5 specs of tests/Pester the way a user runs them: real pwsh (7.6, the PowerShell global tool's
/// package) and real Pester (5.7.1), both restored with the tests, as a child process against the sample Hub; the
/// module is the test build's (artifacts/module/XetPs). One xunit test per spec file; a failure lists every failing
/// test with Pester's own message.
/// </summary>
public sealed class PesterSpecTests : IClassFixture<SampleHub>
{
    // The line that carries the run's result, so the "What if:" lines and warnings the specs print around it do not
    // get in the way of reading it.
    private const string ResultMarker = "XETPS-PESTER-RESULT ";

    // Values reach the script through the environment, not through quoting into -Command.
    private const string Script = $$"""
        $ErrorActionPreference = 'Stop'
        Import-Module $env:XETPS_PESTER_MANIFEST
        $configuration = New-PesterConfiguration
        $configuration.Run.Path = $env:XETPS_PESTER_SPEC
        $configuration.Run.PassThru = $true
        $configuration.Output.Verbosity = 'None'
        $run = Invoke-Pester -Configuration $configuration
        $summary = [ordered]@{
            PowerShell       = $PSVersionTable.PSVersion.ToString()
            Pester           = (Get-Module Pester).Version.ToString()
            Total            = $run.TotalCount
            Passed           = $run.PassedCount
            FailedBlocks     = $run.FailedBlocksCount
            FailedContainers = $run.FailedContainersCount
            Tests            = @($run.Tests | ForEach-Object {
                [ordered]@{ Name = $_.ExpandedPath; Result = $_.Result; Message = (@($_.ErrorRecord | ForEach-Object { $_.Exception.Message }) -join ' | ') }
            })
            # A container's own error (discovery, a file-level BeforeAll); failed tests are listed above.
            Containers       = @($run.Containers | Where-Object { $_.ErrorRecord.Count -gt 0 } | ForEach-Object {
                [ordered]@{ Name = "$($_.Item)"; Result = $_.Result; Message = (@($_.ErrorRecord | ForEach-Object { $_.Exception.Message }) -join ' | ') }
            })
        }
        [Console]::Out.WriteLine('{{ResultMarker}}' + ($summary | ConvertTo-Json -Compress -Depth 4))
        """;

    private readonly SampleHub _hub;

    public PesterSpecTests(SampleHub hub) => _hub = hub;

    /// <summary>Every spec file in tests/Pester, so a new one cannot be left out of CI.</summary>
    public static IEnumerable<object[]> Specs =>
        Directory.GetFiles(Path.Combine(ModuleRunspace.RepoRoot, "tests", "Pester"), "*.Tests.ps1")
            .Select(f => new object[] { Path.GetFileName(f) }).OrderBy(f => (string)f[0], StringComparer.Ordinal);

    [Theory]
    [MemberData(nameof(Specs))]
    public void Pester_spec_passes_under_real_pwsh_and_Pester(string spec)
    {
        var outcome = RunPwsh(new Dictionary<string, string>
        {
            ["XETPS_PESTER_MANIFEST"] = ModuleRunspace.Metadata("XetPsPesterManifest"),
            ["XETPS_PESTER_SPEC"] = Path.Combine(ModuleRunspace.RepoRoot, "tests", "Pester", spec),
            // The specs read the endpoint and the module from the environment, as they do on a user's machine.
            ["XETPS_TEST_ENDPOINT"] = _hub.Endpoint,
            ["XETPS_MODULE_PATH"] = ModuleRunspace.ManifestPath,
        });

        var line = outcome.Stdout.Split('\n').Select(l => l.TrimEnd('\r')).LastOrDefault(l => l.StartsWith(ResultMarker, StringComparison.Ordinal));
        Assert.True(line is not null, $"pwsh printed no Pester result:\n{outcome}");
        using var result = JsonDocument.Parse(line!.Substring(ResultMarker.Length));
        var root = result.RootElement;
        Assert.Equal(ModuleRunspace.Metadata("XetPsPwshVersion"), root.GetProperty("PowerShell").GetString());
        Assert.Equal(ModuleRunspace.Metadata("XetPsPesterVersion"), root.GetProperty("Pester").GetString());

        var notPassed = Items(root, "Containers").Concat(Items(root, "Tests")).Where(t => t.Result != "Passed")
            .Select(t => $"{t.Name}: {t.Result} {t.Message}").ToList();
        Assert.True(notPassed.Count == 0, $"{notPassed.Count} not passed under Pester {root.GetProperty("Pester").GetString()}:\n" + string.Join("\n", notPassed));
        Assert.Equal(0, root.GetProperty("FailedBlocks").GetInt32());
        Assert.Equal(0, root.GetProperty("FailedContainers").GetInt32());
        var total = root.GetProperty("Total").GetInt32();
        Assert.True(total > 0, $"Pester found no test in {spec}");
        Assert.Equal(total, root.GetProperty("Passed").GetInt32());
    }

    private sealed record Item(string Name, string Result, string Message);

    private static IEnumerable<Item> Items(JsonElement root, string property) =>
        root.GetProperty(property).EnumerateArray().Select(e => new Item(
            e.GetProperty("Name").GetString() ?? "", e.GetProperty("Result").GetString() ?? "", e.GetProperty("Message").GetString() ?? "")).ToList();

    /// <summary>Runs <see cref="Script"/> in pwsh with the given environment; killed after three minutes.</summary>
    private static HostProcess.Outcome RunPwsh(IReadOnlyDictionary<string, string> environment)
    {
        var pwsh = ModuleRunspace.Metadata("XetPsPwshPath");
        Assert.True(File.Exists(pwsh), $"pwsh is not at {pwsh}: the test project's restore brings the PowerShell package (run dotnet restore).");
        var start = new ProcessStartInfo("dotnet")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (var argument in new[] { pwsh, "-NoProfile", "-NonInteractive", "-Command", Script }) start.ArgumentList.Add(argument);
        start.Environment["POWERSHELL_TELEMETRY_OPTOUT"] = "1";
        start.Environment["POWERSHELL_UPDATECHECK"] = "Off";
        foreach (var pair in environment) start.Environment[pair.Key] = pair.Value;

        using var process = Process.Start(start)!;
        var stderr = process.StandardError.ReadToEndAsync();
        var stdout = process.StandardOutput.ReadToEndAsync();
        if (!process.WaitForExit(180_000))
        {
            process.Kill(entireProcessTree: true);
            throw new TimeoutException("pwsh running Pester did not finish within 3 minutes");
        }
        return new HostProcess.Outcome(process.ExitCode, stdout.Result, stderr.Result);
    }
}
