using System.Collections.Generic;
using System.IO;
using System.Management.Automation;

namespace XetPs.Tests.Module;

/// <summary>
/// Every byte verified, as a user sees it: a lying CAS or a damaged transfer ends in XetHashMismatch with nothing at
/// the destination, and what -SkipVerification gives up is never later taken for verified.
/// </summary>
public sealed class SaveXetFileIntegrityTests : IClassFixture<SampleHub>, System.IDisposable
{
    private readonly SampleHub _hub;
    private readonly ScratchFolder _destination = new();
    private readonly ModuleRunspace _ps = new();

    public SaveXetFileIntegrityTests(SampleHub hub) => _hub = hub;

    private Dictionary<string, object?> Variables => new()
    {
        ["endpoint"] = _hub.Endpoint,
        ["destination"] = _destination.Path,
    };

    public void Dispose()
    {
        _ps.Dispose();
        _destination.Dispose();
    }

    [Fact]
    public void A_cas_serving_a_straddling_chunk_differently_fails_with_XetHashMismatch()
    {
        // A 1 MB buffer asks for the 3 MiB model in 64 KiB segments, so most segment boundaries cut a chunk, which both
        // segments' answers serve; the emulator serves the second copy with one byte changed.
        var lie = _hub.Server.Faults.Add("reconstruction:hostile=straddle");
        try
        {
            using var ps = _ps.Script(
                "$ErrorActionPreference = 'Stop'; Save-XetFile -Repo xetps/sample -Path model.safetensors -Destination $destination -Endpoint $endpoint -BufferSize 1MB",
                Variables);

            var thrown = Assert.ThrowsAny<RuntimeException>(() => ps.Invoke());

            var record = ((IContainsErrorRecord)thrown).ErrorRecord;
            Assert.Equal("XetHashMismatch,XetPs.Commands.SaveXetFileCommand", record.FullyQualifiedErrorId);
            Assert.Contains("two different chunks", record.Exception.Message);
            Assert.False(File.Exists(_destination.Local("model.safetensors")));
        }
        finally
        {
            _hub.Server.Faults.Remove(lie);
        }
    }
}
