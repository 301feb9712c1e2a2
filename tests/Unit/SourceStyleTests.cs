using System;
using System.Diagnostics;
using System.Linq;
using XetPs.Tests.Module;

namespace XetPs.Tests;

/// <summary>
/// The style holds without review: the sources follow the repository's .editorconfig as `dotnet format` reads it, and
/// the README's test command (which CI runs) checks it.
/// </summary>
public sealed class SourceStyleTests
{
    [Fact]
    public async System.Threading.Tasks.Task The_sources_follow_the_editorconfig()
    {
        // Whitespace only, over the folder: no build, so it runs in seconds and never races the suite's own build.
        var start = new ProcessStartInfo("dotnet")
        {
            WorkingDirectory = ModuleRunspace.RepoRoot,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (var argument in new[] { "format", "whitespace", "--folder", "--verify-no-changes", "--verbosity", "quiet" })
            start.ArgumentList.Add(argument);
        start.Environment["DOTNET_CLI_TELEMETRY_OPTOUT"] = "1";
        start.Environment["DOTNET_NOLOGO"] = "1";
        using var format = Process.Start(start)!;
        var output = format.StandardOutput.ReadToEndAsync();
        var errors = format.StandardError.ReadToEndAsync();
        Assert.True(format.WaitForExit(TimeSpan.FromMinutes(5)), "dotnet format did not finish within 5 minutes");

        var findings = string.Join("\n", (await output + await errors).Split('\n').Where(l => l.Contains("WHITESPACE", StringComparison.Ordinal)).Take(20));
        Assert.True(format.ExitCode == 0, $"dotnet format found code that does not follow .editorconfig (run `dotnet format whitespace --folder`):\n{findings}");
    }
}
