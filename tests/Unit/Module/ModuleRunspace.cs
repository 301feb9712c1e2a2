using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using System.Management.Automation;
using System.Management.Automation.Runspaces;
using System.Reflection;

namespace XetPs.Tests.Module;

/// <summary>
/// A PowerShell 7.6 runspace with the built XetPs module imported the way a user's session imports it (from
/// artifacts/module/XetPs, through XetPs.psd1 and its loader), on a <see cref="CapturingHost"/> so that text written
/// to the host (the "What if:" lines) can be read back. A module that fails to load fails the test
/// (ThrowOnRunspaceOpenError). One per test: runspaces are cheap, and tests must not share variables.
/// </summary>
internal sealed class ModuleRunspace : IDisposable
{
    static ModuleRunspace()
    {
        Environment.SetEnvironmentVariable("POWERSHELL_TELEMETRY_OPTOUT", "1");
    }

    public ModuleRunspace()
    {
        var state = InitialSessionState.CreateDefault2();
        state.ImportPSModule(ManifestPath);
        state.ThrowOnRunspaceOpenError = true;
        Runspace = RunspaceFactory.CreateRunspace(Host, state);
        Runspace.Open();
    }

    /// <summary>The module folder the build assembled (module/XetPs.Module.props).</summary>
    public static string ModuleDirectory => Metadata("XetPsModuleDir");

    public static string ManifestPath => Path.Combine(ModuleDirectory, "XetPs.psd1");

    public static string RepoRoot => Metadata("XetPsRepoRoot");

    public CapturingHost Host { get; } = new();

    public Runspace Runspace { get; }

    /// <summary>A pipeline for <paramref name="script"/>, with the given variables set in the session first.</summary>
    public PowerShell Script(string script, IReadOnlyDictionary<string, object?>? variables = null)
    {
        if (variables is not null)
            foreach (var pair in variables) Runspace.SessionStateProxy.SetVariable(pair.Key, pair.Value);
        var ps = PowerShell.Create();
        ps.Runspace = Runspace;
        ps.AddScript(script);
        return ps;
    }

    /// <summary>Runs <paramref name="script"/> and returns its output; fails the test on any error record.</summary>
    public IReadOnlyList<PSObject> Run(string script, IReadOnlyDictionary<string, object?>? variables = null)
    {
        using var ps = Script(script, variables);
        var output = ps.Invoke();
        if (ps.Streams.Error.Count > 0)
            throw new Xunit.Sdk.XunitException("The script wrote errors:\n" +
                string.Join("\n", ps.Streams.Error.Select(e => e.FullyQualifiedErrorId + ": " + e.Exception.Message)));
        return output;
    }

    public void Dispose() => Runspace.Dispose();

    /// <summary>A value the build wrote into the test assembly (tests/Unit/XetPs.Tests.csproj): paths and versions.</summary>
    internal static string Metadata(string key) =>
        typeof(ModuleRunspace).Assembly.GetCustomAttributes<AssemblyMetadataAttribute>().First(a => a.Key == key).Value!;
}
