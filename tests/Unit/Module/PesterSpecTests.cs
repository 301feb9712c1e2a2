using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;

namespace XetPs.Tests.Module;

/// <summary>
/// Runs the Pester 5 specs of tests/Pester in the hosted engine under PesterLite (there is no Pester package here),
/// one xunit test per spec file; a failure lists every failing It with its message.
/// </summary>
public sealed class PesterSpecTests : IClassFixture<SampleHub>
{
    private readonly SampleHub _hub;

    public PesterSpecTests(SampleHub hub) => _hub = hub;

    [Theory]
    [InlineData("XetPs.Module.Tests.ps1")]
    [InlineData("Save-XetFile.Tests.ps1")]
    public void Pester_spec_passes(string spec)
    {
        // The specs read the endpoint from the environment, as they do under Pester on a user's machine; no other
        // test reads this variable, and the cmdlets never do.
        Environment.SetEnvironmentVariable("XETPS_TEST_ENDPOINT", _hub.Endpoint);
        var folder = Path.Combine(ModuleRunspace.RepoRoot, "tests", "Pester");
        using var ps = new ModuleRunspace();

        var results = ps.Run(". $harness; Invoke-PesterLite -Path $spec", new Dictionary<string, object?>
        {
            ["harness"] = Path.Combine(folder, "PesterLite.ps1"),
            ["spec"] = Path.Combine(folder, spec),
        });

        Assert.NotEmpty(results);
        var failures = results.Where(r => !(bool)r.Properties["Passed"].Value)
            .Select(r => $"{r.Properties["Name"].Value}: {r.Properties["Message"].Value}").ToList();
        Assert.True(failures.Count == 0, $"{failures.Count} of {results.Count} failed:\n" + string.Join("\n", failures));
    }
}
