using System.Collections.Generic;
using System.IO;
using System.Linq;
using System.Management.Automation;

namespace XetPs.Tests.Module;

/// <summary>The module folder, its manifest, its help and its completion, as Import-Module and Get-Help see them.</summary>
public sealed class ModuleManifestTests : System.IDisposable
{
    private readonly ModuleRunspace _ps = new();

    public void Dispose() => _ps.Dispose();

    [Fact]
    public void Test_ModuleManifest_passes_and_declares_both_editions()
    {
        var info = (PSModuleInfo)_ps.Run("Test-ModuleManifest -Path $manifest -ErrorAction Stop",
            new Dictionary<string, object?> { ["manifest"] = ModuleRunspace.ManifestPath }).Single().BaseObject;

        Assert.Equal("XetPs", info.Name);
        Assert.Equal(new[] { "Core", "Desktop" }, info.CompatiblePSEditions.OrderBy(e => e));
        Assert.Equal(new System.Version(5, 1), info.PowerShellVersion);
        Assert.Equal(new[] { "Get-XetCache", "Get-XetFileList", "Remove-XetCache", "Save-XetFile", "Test-XetFile" }, info.ExportedCmdlets.Keys.OrderBy(k => k));
    }

    [Fact]
    public void The_module_exports_exactly_its_cmdlets()
    {
        var names = _ps.Run("Get-Command -Module XetPs | ForEach-Object Name").Select(o => o.ToString()).OrderBy(n => n);

        Assert.Equal(new[] { "Get-XetCache", "Get-XetFileList", "Remove-XetCache", "Save-XetFile", "Test-XetFile" }, names);
    }

    [Fact]
    public void The_core_build_keeps_the_engine_and_its_dependencies_out_of_the_loader_folder()
    {
        var root = ModuleRunspace.ModuleDirectory;

        Assert.True(File.Exists(Path.Combine(root, "core", "XetPs.dll")));
        Assert.True(File.Exists(Path.Combine(root, "core", "Dependencies", "XetPs.Engine.dll")));
        Assert.True(File.Exists(Path.Combine(root, "core", "Dependencies", "Polly.Core.dll")));
        // Only the cmdlet assembly and the exception types beside the loader: anything else there would load in the
        // default context. The exception types are meant to (scripts name them); they reference only the BCL.
        Assert.Equal(new[] { "XetPs.Errors.dll", "XetPs.dll" },
            Directory.GetFiles(Path.Combine(root, "core"), "*.dll").Select(Path.GetFileName).OrderBy(n => n, System.StringComparer.Ordinal));
        Assert.Empty(Directory.GetFiles(Path.Combine(root, "core", "Dependencies"), "XetPs.Errors.dll", SearchOption.AllDirectories));
        Assert.False(File.Exists(Path.Combine(root, "core", "Dependencies", "System.Management.Automation.dll")));
        Assert.True(File.Exists(Path.Combine(root, "en-US", "XetPs.dll-Help.xml")));
        Assert.True(File.Exists(Path.Combine(root, "en-US", "about_XetPs.help.txt")));
    }

    [Theory]
    [InlineData("Get-XetFileList")]
    [InlineData("Save-XetFile")]
    [InlineData("Test-XetFile")]
    [InlineData("Get-XetCache")]
    [InlineData("Remove-XetCache")]
    public void Get_Help_Full_shows_the_written_help_with_examples(string command)
    {
        var vars = new Dictionary<string, object?> { ["command"] = command };
        var synopsis = _ps.Run("(Get-Help $command -Full).Synopsis", vars).Single().ToString();
        var examples = _ps.Run("@((Get-Help $command -Examples).Examples.Example).Count", vars).Single();
        var codes = _ps.Run("(Get-Help $command -Examples).Examples.Example | ForEach-Object Code", vars).Select(o => o.ToString()).ToList();

        Assert.DoesNotContain(command + " [", synopsis); // generated help would show the syntax instead
        Assert.True((int)examples.BaseObject >= 5, $"{command} has {examples} examples");
        Assert.All(codes, c => Assert.Contains("Xet", c));
    }

    [Theory]
    [InlineData("Get-XetFileList")]
    [InlineData("Save-XetFile")]
    [InlineData("Test-XetFile")]
    [InlineData("Get-XetCache")]
    [InlineData("Remove-XetCache")]
    public void Help_documents_every_visible_parameter_and_no_other(string command)
    {
        var vars = new Dictionary<string, object?> { ["command"] = command };
        var declared = _ps.Run(
            "(Get-Command $command).Parameters.Values | Where-Object { " +
            "-not ($_.Attributes | Where-Object { $_ -is [System.Management.Automation.ParameterAttribute] -and $_.DontShow }) " +
            "-and $_.Name -notin [System.Management.Automation.PSCmdlet]::CommonParameters } | ForEach-Object Name", vars)
            .Select(o => o.ToString()).OrderBy(n => n).ToList();
        var documented = _ps.Run("(Get-Help $command -Full).Parameters.Parameter | ForEach-Object Name", vars)
            .Select(o => o.ToString()).OrderBy(n => n).ToList();
        var described = _ps.Run("(Get-Help $command -Full).Parameters.Parameter | Where-Object { \"$($_.Description.Text)\".Length -gt 20 } | ForEach-Object Name", vars)
            .Select(o => o.ToString()).OrderBy(n => n).ToList();

        Assert.Equal(declared, documented);
        Assert.Equal(documented, described);
    }

    [Fact]
    public void About_XetPs_is_found_by_Get_Help()
    {
        var text = string.Concat(_ps.Run("Get-Help about_XetPs | ForEach-Object { \"$_\" }").Select(o => o.ToString()));

        Assert.Contains("HF_TOKEN", text);
        Assert.Contains("XetUnsafePath", text);
    }

    [Fact]
    public void RepoType_completes_from_its_values()
    {
        var completions = _ps.Run("$line = 'Get-XetFileList -RepoType Da'; (TabExpansion2 -inputScript $line -cursorColumn $line.Length).CompletionMatches | ForEach-Object CompletionText")
            .Select(o => o.ToString());

        Assert.Equal(new[] { "Dataset" }, completions);
    }
}
