using System;
using System.IO;
using System.Threading.Tasks;
using XetPs.Emulator;
using XetPs.Emulator.Scenario;
using XetPs.Reconstruction;
using Xunit;

namespace XetPs.Tests.Reconstruction;

/// <summary>Specifications that count every byte the process allocates while they run, so nothing else may run
/// meanwhile: xunit runs this collection after the parallel ones, alone.</summary>
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class MemoryMeasurement
{
    public const string Name = "Memory measured process-wide";
}

/// <summary>The buffer size as a real bound on memory, against a CAS that names fetches larger than it.</summary>
[Collection(MemoryMeasurement.Name)]
public class BufferBoundTests
{
    private static readonly TimeSpan Bound = TimeSpan.FromSeconds(120);

    [Fact]
    public async Task A_fetch_of_8200_chunks_ends_in_a_clear_error_within_buffer_plus_150_MiB()
    {
        // The reconstruction names a fetch of 8,200 chunks (more than a xorb holds) and a first term claiming the most
        // they could decode to, 8,200 x 128 KiB (1 GiB): a load sized from it would take 1 GiB before a byte arrives.
        // Allocation is counted by the runtime, every thread and every array (an array never written costs no resident
        // memory, so the process's resident size could miss it): what was allocated bounds what was held at once.
        const long buffer = 64L << 20;
        var file = ScenarioData.TextFile("notes/corpus.txt", 2 << 20, seed: 5);
        await using var emulator = await EmulatorFixture.StartAsync(file);
        var fault = emulator.Server.Faults.Add("reconstruction:hostile=huge-fetch");
        var request = emulator.Request("notes/corpus.txt");
        Exception? error;

        var before = GC.GetTotalAllocatedBytes(precise: true);
        await using (var session = new XetSession(emulator.Options(buffer: buffer)))
            error = await Record.ExceptionAsync(() => session.DownloadAsync(request).WaitAsync(Bound));
        var allocated = GC.GetTotalAllocatedBytes(precise: true) - before;

        Assert.True(emulator.Server.Faults.AppliedCount(fault) > 0, "the hostile reconstruction was never served");
        var refused = Assert.IsType<XetProtocolException>(error);
        Assert.Contains("does not fit the 67108864-byte buffer", refused.Message);
        Assert.True(allocated < buffer + (150L << 20), $"{allocated >> 20} MiB allocated with a {buffer >> 20} MiB buffer");
        Assert.False(File.Exists(request.DestinationPath));
    }
}
