using System;
using System.Collections.Generic;
using System.Diagnostics;
using System.Linq;
using System.Reflection;

namespace XetPs.Tests.Module;

/// <summary>
/// Runs the tools/ps host (XetPs.Host.dll, built with the tests) as a child process with the test build's module,
/// and returns its exit code and both output streams. Bounded: a host that hangs is killed after two minutes.
/// </summary>
internal static class HostProcess
{
    public sealed record Outcome(int ExitCode, string Stdout, string Stderr)
    {
        public override string ToString() => $"exit {ExitCode}\n--- stdout\n{Stdout}\n--- stderr\n{Stderr}";
    }

    public static Outcome Run(params string[] arguments) => Run(new Dictionary<string, string>(), arguments);

    /// <summary>Runs the host with extra environment variables (XETPS_MODULE_PATH overrides the module imported).</summary>
    public static Outcome Run(IReadOnlyDictionary<string, string> environment, params string[] arguments)
    {
        var start = new ProcessStartInfo("dotnet")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        start.ArgumentList.Add(HostPath);
        foreach (var argument in arguments) start.ArgumentList.Add(argument);
        start.Environment["POWERSHELL_TELEMETRY_OPTOUT"] = "1";
        start.Environment["XETPS_MODULE_PATH"] = ModuleRunspace.ManifestPath;
        foreach (var pair in environment) start.Environment[pair.Key] = pair.Value;
        using var process = Process.Start(start)!;
        var stderr = process.StandardError.ReadToEndAsync();
        var stdout = process.StandardOutput.ReadToEndAsync();
        if (!process.WaitForExit(120_000))
        {
            process.Kill(entireProcessTree: true);
            throw new TimeoutException("the tools/ps host did not finish within 2 minutes");
        }
        return new Outcome(process.ExitCode, stdout.Result, stderr.Result);
    }

    private static string HostPath =>
        typeof(HostProcess).Assembly.GetCustomAttributes<AssemblyMetadataAttribute>().First(a => a.Key == "XetPsHostPath").Value!;
}
