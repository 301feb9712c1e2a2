using System;
using System.IO;
using System.Linq;
using System.Threading;
using System.Threading.Tasks;
using XetPs.Cas;
using XetPs.Format;
using XetPs.Reconstruction;

namespace XetPs.Tests.Reconstruction;

public class FileReconstructorTests
{
    [Fact]
    public async Task Download_is_byte_exact_and_verified()
    {
        using var f = new ReconstructionFixture();
        var (id, bytes, _) = f.SeedShape(seed: 7);
        var session = ReconstructionFixture.Session(ReconstructionFixture.Options(buffer: 4 << 20, cas: 4));
        var destination = f.Destination();

        var outcome = await f.RunAsync(session, id, bytes.Length, destination);

        Assert.Equal(bytes, File.ReadAllBytes(destination));
        Assert.False(outcome.Resumed);
        Assert.False(File.Exists(ResumeJournal.PartialPathFor(destination)));
        Assert.False(File.Exists(ResumeJournal.JournalPathFor(destination)));
        Assert.Equal(0, session.Registry.BlockCount);
        Assert.Equal(0, session.Registry.Permits.Held);
    }
}
