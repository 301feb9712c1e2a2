using System;
using System.IO;
using System.Linq;
using System.Threading;
using System.Threading.Tasks;
using XetPs.Emulator;
using XetPs.Emulator.Scenario;
using XetPs.Reconstruction;

namespace XetPs.Tests.Reconstruction;

public class XetSessionTests
{
    [Fact]
    public async Task Save_downloads_a_xet_file_byte_exact_from_the_emulator()
    {
        var file = ScenarioData.IncompressibleFile("weights/model.bin", 3 << 20, seed: 11);
        await using var emulator = await EmulatorFixture.StartAsync(file);
        await using var session = new XetSession(emulator.Options());

        var result = await session.DownloadAsync(emulator.Request("weights/model.bin"));

        Assert.Equal(EmulatorFixture.Content(file), File.ReadAllBytes(result.DestinationPath));
        Assert.False(result.Skipped);
        Assert.NotNull(result.XetHash);
        Assert.True(result.BytesReceived > 0);
        Assert.All(emulator.Server.Log.For(EmulatorRoute.Xorb), e => Assert.False(e.HadAuthorization));
    }
}
