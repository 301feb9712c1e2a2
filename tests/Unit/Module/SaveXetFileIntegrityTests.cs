using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using System.Management.Automation;
using System.Security.Cryptography;
using XetPs.Emulator;
using XetPs.Reconstruction;

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

    private const string TrainFile = "data/train-00000.bin";

    private string Sha256Of(string path) => Convert.ToHexString(SHA256.HashData(File.ReadAllBytes(path))).ToLowerInvariant();

    private string StoredSha256 => _hub.SampleFiles.Single(f => f.Path == TrainFile).Sha256;

    [Fact]
    public void A_file_saved_without_verification_is_hashed_before_a_verifying_run_trusts_it()
    {
        // Incompressible data is stored uncompressed, so one flipped byte decodes fine and only the hash could tell.
        var corrupt = _hub.Server.Faults.Add("xorb:corrupt-at=1000");
        try
        {
            _ps.Run($"Save-XetFile -Repo xetps/sample -Path {TrainFile} -Destination $destination -Endpoint $endpoint -SkipVerification", Variables);
        }
        finally
        {
            _hub.Server.Faults.Remove(corrupt);
        }
        var local = _destination.Local(TrainFile);
        Assert.NotEqual(StoredSha256, Sha256Of(local)); // -SkipVerification gave up exactly this check

        using var ps = _ps.Script($"Save-XetFile -Repo xetps/sample -Path {TrainFile} -Destination $destination -Endpoint $endpoint -Verbose", Variables);
        ps.Invoke();

        var verbose = string.Join("\n", ps.Streams.Verbose.Concat<object>(ps.Streams.Warning).Select(r => r.ToString()));
        Assert.DoesNotContain("already has the same size and hash", verbose);
        Assert.Contains("does not match its hash", verbose);
        Assert.Empty(ps.Streams.Error);
        Assert.Equal(StoredSha256, Sha256Of(local));
    }

    [Fact]
    public void An_intact_unverified_file_is_hashed_once_then_recorded_as_verified()
    {
        var save = $"Save-XetFile -Repo xetps/sample -Path {TrainFile} -Destination $destination -Endpoint $endpoint";
        _ps.Run(save + " -SkipVerification", Variables);
        var local = _destination.Local(TrainFile);
        var record = LocalFileRecord.PathFor(local, TrainFile);
        Assert.Contains("verified=0", File.ReadAllText(record));
        _hub.Server.Log.Clear();

        using var ps = _ps.Script(save + " -Verbose", Variables);
        ps.Invoke();

        Assert.Contains(ps.Streams.Verbose, r => r.Message.Contains("already has the same size and hash", StringComparison.Ordinal));
        Assert.Empty(_hub.Server.Log.For(EmulatorRoute.Xorb)); // hashed locally, not downloaded again
        Assert.Contains("verified=1", File.ReadAllText(record));
    }

    [Theory]
    [InlineData("xorb:corrupt-at=20,times=1", "data/train-00000.bin")]
    [InlineData("resolve:corrupt-at=20,skip=1,times=1", "config.json")] // skips the resolve HEAD: the GET's body is hit
    public void A_transfer_corrupted_once_is_downloaded_again_and_saved_byte_exact(string fault, string path)
    {
        // A flaky CDN costs time, not a failed job: the first transfer's bytes fail their hash (Xet file id, or the
        // plain file's git blob id), the file is downloaded afresh, and -Verbose says so.
        var corrupt = _hub.Server.Faults.Add(fault);
        try
        {
            using var ps = _ps.Script($"Save-XetFile -Repo xetps/sample -Path {path} -Destination $destination -Endpoint $endpoint -Verbose", Variables);
            ps.Invoke();

            Assert.Empty(ps.Streams.Error);
            Assert.Equal(1, _hub.Server.Faults.AppliedCount(corrupt));
            Assert.Contains(ps.Streams.Verbose, r => r.Message.Contains("Downloading it again (attempt 2 of 3)", StringComparison.Ordinal));
            Assert.Equal(_hub.SampleFiles.Single(f => f.Path == path).Sha256, Sha256Of(_destination.Local(path)));
        }
        finally
        {
            _hub.Server.Faults.Remove(corrupt);
        }
    }

    [Fact]
    public void A_transfer_corrupted_every_time_ends_in_XetHashMismatch_after_three_downloads()
    {
        var corrupt = _hub.Server.Faults.Add("xorb:corrupt-at=1000");
        try
        {
            _hub.Server.Log.Clear();
            using var ps = _ps.Script(
                $"$ErrorActionPreference = 'Stop'; Save-XetFile -Repo xetps/sample -Path {TrainFile} -Destination $destination -Endpoint $endpoint", Variables);

            var thrown = Assert.ThrowsAny<RuntimeException>(() => ps.Invoke());

            Assert.Equal("XetHashMismatch,XetPs.Commands.SaveXetFileCommand", ((IContainsErrorRecord)thrown).ErrorRecord.FullyQualifiedErrorId);
            var firstSegments = _hub.Server.Log.For(EmulatorRoute.Reconstruction).Count(e => e.Range is { } r && r.StartsWith("bytes=0-", StringComparison.Ordinal));
            Assert.Equal(1 + XetSession.HashMismatchRetries, firstSegments);
            Assert.Empty(_destination.Files());
        }
        finally
        {
            _hub.Server.Faults.Remove(corrupt);
        }
    }
}
