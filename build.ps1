#!/usr/bin/env pwsh
<#
.SYNOPSIS
    Builds the XetPs module folder (artifacts/module/XetPs), and optionally runs the tests.
.DESCRIPTION
    Builds src/XetPs for both targets (net8.0 for PowerShell 7.4+, netstandard2.0 for Windows PowerShell 5.1); the
    build assembles the importable folder: XetPs.psd1, XetPs.psm1, XetPs.format.ps1xml, en-US help, core/ and
    desktop/. Then checks the manifest. tools/ps does the same with dotnet alone on machines without pwsh.
    Uses only core cmdlets and .NET, so it also runs under tools/ps.
.EXAMPLE
    ./build.ps1
    Import-Module ./artifacts/module/XetPs/XetPs.psd1
.EXAMPLE
    ./build.ps1 -Test -Pester
    Builds, runs the xunit suite, then the Pester specs against an emulator started for them, under Pester 5: an
    installed one, else the one the tests restore from NuGet (~/.nuget/packages/pester/5.7.1/tools).
#>
[CmdletBinding()]
param(
    [ValidateSet('Release', 'Debug')]
    [string] $Configuration = 'Release',
    # Run the xunit suite (dotnet test XetPs.sln), which also runs the Pester specs in pwsh under Pester 5.7.1.
    [switch] $Test,
    # Run tests/Pester with the real Pester 5 against a freshly started emulator.
    [switch] $Pester
)
$ErrorActionPreference = 'Stop'
$root = $PSScriptRoot
$module = if ($Configuration -eq 'Release') { [IO.Path]::Combine($root, 'artifacts', 'module', 'XetPs') } else { [IO.Path]::Combine($root, 'artifacts', 'module', $Configuration, 'XetPs') }

dotnet build ([IO.Path]::Combine($root, 'src', 'XetPs', 'XetPs.csproj')) -c $Configuration -nologo -v q
if ($LASTEXITCODE -ne 0) { throw "dotnet build failed (exit code $LASTEXITCODE)." }
# PowerShell 7 on Windows x64 and Linux x64: the engine and its dependencies compiled ahead, one set per .NET
# (core/Dependencies/r2r); the module runs on its IL files where no set fits.
dotnet build ([IO.Path]::Combine($root, 'module', 'ReadyToRun', 'XetPs.ReadyToRun.csproj')) -c $Configuration -nologo -v q
if ($LASTEXITCODE -ne 0) { throw "dotnet build of the ReadyToRun images failed (exit code $LASTEXITCODE)." }
$manifest = Test-ModuleManifest -Path ([IO.Path]::Combine($module, 'XetPs.psd1')) -ErrorAction Stop
"Built $($manifest.Name) $($manifest.Version) in $module"

if ($Test) {
    dotnet test ([IO.Path]::Combine($root, 'XetPs.sln')) -c $Configuration
    if ($LASTEXITCODE -ne 0) { throw "dotnet test failed (exit code $LASTEXITCODE)." }
}

if ($Pester) {
    if (-not (Get-Module -ListAvailable -Name Pester | Where-Object { $_.Version.Major -ge 5 })) {
        # Where only NuGet is reachable: the Pester package the tests restore holds the module in its tools/ folder
        # (the package is not a module folder, so Install-PSResource from a NuGet feed leaves it unusable).
        dotnet restore ([IO.Path]::Combine($root, 'tests', 'Unit', 'XetPs.Tests.csproj')) -nologo -v q
        if ($LASTEXITCODE -ne 0) { throw "dotnet restore of the tests failed (exit code $LASTEXITCODE)." }
        $packages = if ($env:NUGET_PACKAGES) { $env:NUGET_PACKAGES } else { [IO.Path]::Combine([Environment]::GetFolderPath('UserProfile'), '.nuget', 'packages') }
        $project = [xml][IO.File]::ReadAllText([IO.Path]::Combine($root, 'tests', 'Unit', 'XetPs.Tests.csproj'))
        $version = @($project.Project.PropertyGroup | ForEach-Object { $_.PesterVersion } | Where-Object { $_ })[0]
        $restored = [IO.Path]::Combine($packages, 'pester', $version, 'tools', 'Pester.psd1')
        if (-not [IO.File]::Exists($restored)) {
            throw "Pester 5 is neither installed nor restored at $restored`: Install-Module Pester -MinimumVersion 5.0 -Scope CurrentUser"
        }
        Import-Module $restored -ErrorAction Stop
    }
    $emulatorProject = [IO.Path]::Combine($root, 'emulator', 'XetPs.Emulator', 'XetPs.Emulator.csproj')
    dotnet build $emulatorProject -c $Configuration -nologo -v q
    if ($LASTEXITCODE -ne 0) { throw "dotnet build of the emulator failed (exit code $LASTEXITCODE)." }
    $start = [Diagnostics.ProcessStartInfo]::new('dotnet')
    $start.ArgumentList.Add([IO.Path]::Combine($root, 'emulator', 'XetPs.Emulator', 'bin', $Configuration, 'net10.0', 'XetPs.Emulator.dll'))
    foreach ($argument in '--store', [IO.Path]::Combine($root, 'artifacts', 'emulator-store'), '--sample', '--port', '0') { $start.ArgumentList.Add($argument) }
    $start.RedirectStandardOutput = $true
    $start.UseShellExecute = $false
    $emulator = [Diagnostics.Process]::Start($start)
    try {
        $env:XETPS_TEST_ENDPOINT = $emulator.StandardOutput.ReadLine()  # the emulator prints its URL first
        $env:XETPS_MODULE_PATH = [IO.Path]::Combine($module, 'XetPs.psd1')
        $result = Invoke-Pester -Path ([IO.Path]::Combine($root, 'tests', 'Pester')) -PassThru
        if ($result.FailedCount -gt 0) { throw "$($result.FailedCount) Pester test(s) failed." }
    }
    finally {
        $emulator.Kill()
        $emulator.Dispose()
    }
}
