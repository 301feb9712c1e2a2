using System;
using System.Collections.Generic;
using System.Linq;
using System.Management.Automation;
using System.Reflection;
using System.Runtime.CompilerServices;

namespace XetPs.Tests.Module;

/// <summary>
/// The exceptions a script meets, as types it can name: every one lives in XetPs.Errors (namespace XetPs), a script
/// catches it by type, and the cmdlets give each its own stable error id. The load-context side (one copy, in the
/// default context, beside the isolated engine) is in <see cref="ModuleIsolationTests"/>; pwsh itself in
/// tests/Pester/XetPs.Errors.Tests.ps1.
/// </summary>
public sealed class ErrorTypeTests : IClassFixture<SampleHub>, IDisposable
{
    private readonly SampleHub _hub;
    private readonly ScratchFolder _destination = new();
    private readonly ModuleRunspace _ps = new();

    public ErrorTypeTests(SampleHub hub) => _hub = hub;

    public void Dispose()
    {
        _ps.Dispose();
        _destination.Dispose();
    }

    /// <summary>
    /// Every public exception type, with the error id and category its ErrorRecord carries. A type added to
    /// XetPs.Errors without a row here fails the spec below, and so does an arm of XetErrors.Classify that is missing
    /// or changed (the type would then map like its base type, with another id or category).
    /// </summary>
    private static readonly IReadOnlyDictionary<Type, (string Id, ErrorCategory Category)> ErrorIds =
        new Dictionary<Type, (string, ErrorCategory)>
        {
            [typeof(XetFileNotFoundException)] = ("XetFileNotFound", ErrorCategory.ObjectNotFound),
            [typeof(XetAuthenticationException)] = ("XetAuthenticationFailed", ErrorCategory.PermissionDenied),
            [typeof(XetHashMismatchException)] = ("XetHashMismatch", ErrorCategory.InvalidResult),
            [typeof(XetDestinationExistsException)] = ("XetDestinationExists", ErrorCategory.ResourceExists),
            [typeof(XetInsufficientDiskSpaceException)] = ("XetInsufficientDiskSpace", ErrorCategory.ResourceUnavailable),
            [typeof(UnsafeRepoPathException)] = ("XetUnsafePath", ErrorCategory.SecurityError),
            [typeof(UnsafeWorkPathException)] = ("XetUnsafePath", ErrorCategory.SecurityError),
            [typeof(XetStallException)] = ("XetDownloadStalled", ErrorCategory.OperationTimeout),
            [typeof(XetOfflineException)] = ("XetOffline", ErrorCategory.ResourceUnavailable),
            [typeof(XetProtocolException)] = ("XetProtocolError", ErrorCategory.InvalidData),
            [typeof(XorbFormatException)] = ("XetProtocolError", ErrorCategory.InvalidData),
            [typeof(XetReadTimeoutException)] = ("XetDownloadFailed", ErrorCategory.OperationTimeout),
            [typeof(XetUrlExpiredException)] = ("XetDownloadFailed", ErrorCategory.PermissionDenied),
        };

    private static IEnumerable<Type> ExceptionTypes(Assembly assembly) =>
        assembly.GetExportedTypes().Where(t => typeof(Exception).IsAssignableFrom(t));

    [Fact]
    public void Every_exception_type_of_XetPs_Errors_maps_to_its_own_error_id()
    {
        var declared = ExceptionTypes(typeof(XetFileNotFoundException).Assembly).ToList();
        var classify = CmdletAssembly().GetType("XetPs.Commands.XetErrors", throwOnError: true)!
            .GetMethod("Classify", BindingFlags.NonPublic | BindingFlags.Static)!;

        Assert.Equal(ErrorIds.Keys.Select(t => t.FullName).OrderBy(n => n), declared.Select(t => t.FullName).OrderBy(n => n));
        foreach (var type in declared)
        {
            Assert.Equal("XetPs", type.Namespace);
            // Classify looks at the type alone, so an instance without constructor arguments stands for a real one.
            var (id, category) = ((string, ErrorCategory))classify.Invoke(null, new[] { RuntimeHelpers.GetUninitializedObject(type) })!;
            Assert.True(ErrorIds[type] == (id, category), $"{type.Name} maps to {id}/{category}, not {ErrorIds[type]}");
        }
    }

    [Fact]
    public void The_engine_and_the_cmdlets_declare_no_exception_type_outside_XetPs_Errors()
    {
        // A public exception elsewhere would be one a script cannot name on PowerShell 7 (the engine loads in its own
        // context) and one the table above does not see.
        Assert.Empty(ExceptionTypes(typeof(XetPs.Hub.RepoId).Assembly));
        Assert.Empty(ExceptionTypes(CmdletAssembly()));
    }

    [Fact]
    public void XetPs_Errors_references_nothing_but_the_framework()
    {
        // It loads in PowerShell's default context, shared with every other module: a dependency of its own would be
        // loaded there too, where the module's isolation cannot reach.
        Assert.Equal(new[] { "netstandard" },
            typeof(XetFileNotFoundException).Assembly.GetReferencedAssemblies().Select(a => a.Name));
    }

    /// <summary>The action that fails with each exception a user meets in a script, without any fault in the Hub.</summary>
    private static readonly IReadOnlyDictionary<string, string> Failing = new Dictionary<string, string>
    {
        ["XetFileNotFoundException"] = "Save-XetFile -Repo xetps/sample -Path no/such/file.bin -Destination $destination -Endpoint $endpoint",
        ["XetAuthenticationException"] = "Save-XetFile -Repo xetps/sample -Path config.json -Destination $destination -Endpoint $endpoint -Token $wrongToken",
        // The listed file with a git blob id its bytes do not have: the download is checked against it and refused.
        ["XetHashMismatchException"] =
            "$file = Get-XetFileList -Repo xetps/sample -Endpoint $endpoint | Where-Object Path -eq config.json; " +
            "[pscustomobject]@{ Repo = $file.Repo; Revision = $file.Revision; Path = $file.Path; Size = $file.Size; IsXet = $false; " +
            "  GitOid = '0' * 40 } | Save-XetFile -Destination $destination -Endpoint $endpoint",
        ["XetDestinationExistsException"] =
            "[System.IO.File]::WriteAllText([System.IO.Path]::Combine($destination, 'config.json'), 'not the repository file'); " +
            "Save-XetFile -Repo xetps/sample -Path config.json -Destination $destination -Endpoint $endpoint",
        ["UnsafeRepoPathException"] = "Save-XetFile -Repo xetps/sample -Path ../outside.bin -Destination $destination -Endpoint $endpoint",
        // A listed file a petabyte long: more than any test machine has free.
        ["XetInsufficientDiskSpaceException"] =
            "$file = Get-XetFileList -Repo xetps/sample -Endpoint $endpoint | Where-Object Path -eq model.safetensors; " +
            "[pscustomobject]@{ Repo = $file.Repo; Revision = $file.Revision; Path = $file.Path; Size = 1PB; IsXet = $true; " +
            "  XetHash = $file.XetHash } | Save-XetFile -Destination $destination -Endpoint $endpoint",
    };

    [Theory]
    [InlineData("XetFileNotFoundException")]
    [InlineData("XetAuthenticationException")]
    [InlineData("XetHashMismatchException")]
    [InlineData("XetDestinationExistsException")]
    [InlineData("UnsafeRepoPathException")]
    [InlineData("XetInsufficientDiskSpaceException")]
    public void A_script_catches_each_error_by_its_XetPs_type(string type)
    {
        var output = _ps.Run(
            $"$caught = $null; try {{ {Failing[type]} }} catch [XetPs.{type}] {{ $caught = $_ }}; " +
            $"if ($caught) {{ $caught.Exception -is [XetPs.{type}]; $caught.FullyQualifiedErrorId }} else {{ 'not caught' }}",
            new Dictionary<string, object?>
            {
                ["endpoint"] = _hub.Endpoint,
                ["destination"] = _destination.Path,
                ["wrongToken"] = SampleHub.Secure("hf_" + new string('x', 34)),
            });

        var id = ErrorIds.Single(p => p.Key.Name == type).Value.Id;
        Assert.Equal(new[] { "True", id + ",XetPs.Commands.SaveXetFileCommand" }, output.Select(o => o.ToString()));
    }

    [Fact]
    public void With_hf_hub_offline_set_a_script_catches_XetOfflineException()
    {
        // In a child process (tools/ps's host): HF_HUB_OFFLINE is read from the environment, which is per process. A file
        // missing offline is a non-terminating error (the others are still answered): -ErrorAction Stop makes it catchable.
        var script =
            $"try {{ Save-XetFile -Repo xetps/sample -Path config.json -Destination '{_destination.Path}' -Endpoint '{_hub.Endpoint}' -ErrorAction Stop }} " +
            "catch [XetPs.XetOfflineException] { 'caught ' + ($_.Exception -is [XetPs.XetOfflineException]) + ' ' + $_.FullyQualifiedErrorId }";

        var outcome = HostProcess.Run(new Dictionary<string, string> { ["HF_HUB_OFFLINE"] = "1" }, "-Command", script);

        Assert.True(outcome.ExitCode == 0, outcome.ToString());
        Assert.Equal("caught True XetOffline,XetPs.Commands.SaveXetFileCommand", outcome.Stdout.Trim());
    }

    /// <summary>The cmdlet assembly as this process loaded it for the runspace (the tests do not reference it).</summary>
    private Assembly CmdletAssembly() => (Assembly)_ps.Run("[XetPs.XetFileEntry].Assembly").Single().BaseObject;
}
