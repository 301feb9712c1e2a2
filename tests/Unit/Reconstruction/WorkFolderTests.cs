using System;
using System.IO;
using System.Linq;
using System.Runtime.InteropServices;
using System.Threading.Tasks;
using XetPs.Emulator.Scenario;
using XetPs.Emulator.Store;
using XetPs.Reconstruction;

namespace XetPs.Tests.Reconstruction;

/// <summary>
/// Links in XetPs's working folder (<c>.cache/xetps</c> under the destination root), as an unpacked archive, a git
/// checkout or someone sharing the folder can leave them: never followed, refused with
/// <see cref="UnsafeWorkPathException"/> before a byte goes through them, and what they name is left as it was; a link
/// at the destination itself is replaced by the finished file. Real links on the file system the specs run on (Linux).
/// </summary>
public sealed class WorkFolderTests : IDisposable
{
    private static readonly TimeSpan Bound = TimeSpan.FromSeconds(120);
    private const string Xet = "weights/model.bin", Plain = "notes/large.txt";
    private static readonly byte[] Precious = "a file of the user's own, outside the destination\n"u8.ToArray();

    /// <summary>A folder beside the destination root, where the links point: what must stay as it was.</summary>
    private readonly string _outside = Path.Combine(Path.GetTempPath(), "xetps-outside-" + Guid.NewGuid().ToString("N"));

    public WorkFolderTests() => Directory.CreateDirectory(_outside);

    public void Dispose() => Directory.Delete(_outside, recursive: true);

    private static Task<EmulatorFixture> StartAsync() => EmulatorFixture.StartAsync(
        ScenarioData.IncompressibleFile(Xet, 1 << 20, seed: 3),
        ScenarioData.IncompressibleFile(Plain, 256 << 10, seed: 4).AsXet(false));

    /// <summary>Session options that write a journal (or a plain file's marker) at the first commit, 64 KiB in.</summary>
    private static XetSessionOptions Options(EmulatorFixture emulator)
    {
        var options = emulator.Options();
        options.JournalCommitInterval = 64 << 10;
        return options;
    }

    private static string WorkPath(string which, string destination, string repoPath) => which switch
    {
        "partial" => ResumeJournal.PartialPathFor(destination, repoPath),
        "journal" => ResumeJournal.JournalPathFor(destination, repoPath),
        "record" => LocalFileRecord.PathFor(destination, repoPath),
        _ => throw new ArgumentOutOfRangeException(nameof(which)),
    };

    private string Victim()
    {
        var victim = Path.Combine(_outside, "victim.bin");
        File.WriteAllBytes(victim, Precious);
        return victim;
    }

    private static void Plant(string link, string target)
    {
        Directory.CreateDirectory(Path.GetDirectoryName(link)!);
        File.CreateSymbolicLink(link, target);
    }

    [Theory]
    [InlineData(Xet, "partial")]
    [InlineData(Xet, "journal")]
    [InlineData(Xet, "record")]
    [InlineData(Plain, "partial")]
    [InlineData(Plain, "journal")]
    [InlineData(Plain, "record")]
    public async Task A_link_at_a_work_file_is_refused_and_the_file_it_names_is_kept(string repoPath, string which)
    {
        // Each work file was opened by name and followed: the partial file truncated the file the link named and filled
        // it with model bytes (then the link itself was renamed onto the destination), the journal, the plain file's
        // marker and the record overwrote it with their own lines.
        await using var emulator = await StartAsync();
        await using var session = new XetSession(Options(emulator));
        var request = emulator.Request(repoPath);
        var link = WorkPath(which, request.DestinationPath, repoPath);
        var victim = Victim();
        Plant(link, victim);

        var refused = await Assert.ThrowsAsync<UnsafeWorkPathException>(() => session.DownloadAsync(request).WaitAsync(Bound));

        Assert.Equal(link, refused.Path);
        Assert.Equal(Precious, File.ReadAllBytes(victim));
        Assert.False(File.Exists(request.DestinationPath));
        Assert.Equal(victim, new FileInfo(link).LinkTarget); // refused, not removed: the user sees what was planted
    }

    [Theory]
    [InlineData("partial")]
    [InlineData("journal")]
    [InlineData("record")]
    public async Task A_dangling_link_at_a_work_file_is_refused_and_creates_nothing_where_it_points(string which)
    {
        // Opening or creating by name through a link to a missing file creates that file, wherever it points.
        await using var emulator = await StartAsync();
        await using var session = new XetSession(Options(emulator));
        var request = emulator.Request(Xet);
        var link = WorkPath(which, request.DestinationPath, Xet);
        var nowhere = Path.Combine(_outside, "created-through-the-link");
        Plant(link, nowhere);

        await Assert.ThrowsAsync<UnsafeWorkPathException>(() => session.DownloadAsync(request).WaitAsync(Bound));

        Assert.Empty(Directory.GetFileSystemEntries(_outside));
        Assert.False(File.Exists(request.DestinationPath));
    }

    [Theory]
    [InlineData(".cache")]
    [InlineData(".cache/xetps")]
    [InlineData(".cache/xetps/weights")]
    public async Task A_working_folder_that_is_a_link_is_refused_and_nothing_lands_where_it_points(string folder)
    {
        // The records of files in a repo folder live in folders of their own under .cache/xetps: each folder from
        // .cache down is one XetPs writes in. Followed, the partial file, its journal and the record were written in
        // the folder the link named.
        await using var emulator = await StartAsync();
        await using var session = new XetSession(Options(emulator));
        var request = emulator.Request(Xet);
        var link = Path.Combine(emulator.Root, folder.Replace('/', Path.DirectorySeparatorChar));
        Directory.CreateDirectory(Path.GetDirectoryName(link)!);
        Directory.CreateSymbolicLink(link, _outside);

        var refused = await Assert.ThrowsAsync<UnsafeWorkPathException>(() => session.DownloadAsync(request).WaitAsync(Bound));

        Assert.Equal(link, refused.Path);
        Assert.Empty(Directory.GetFileSystemEntries(_outside));
        Assert.False(File.Exists(request.DestinationPath));
    }

    [Theory]
    [InlineData(Xet)]
    [InlineData(Plain)]
    public async Task A_partial_file_with_another_name_is_refused_and_that_name_keeps_its_bytes(string repoPath)
    {
        // A hard link is no symbolic link, but writing the partial file through it changes the file under its other
        // name (a tar archive can carry one pointing at another file it unpacks).
        await using var emulator = await StartAsync();
        await using var session = new XetSession(Options(emulator));
        var request = emulator.Request(repoPath);
        var partial = ResumeJournal.PartialPathFor(request.DestinationPath, repoPath);
        Directory.CreateDirectory(Path.GetDirectoryName(partial)!);
        var victim = Victim();
        Assert.Equal(0, Link(victim, partial));

        var refused = await Assert.ThrowsAsync<UnsafeWorkPathException>(() => session.DownloadAsync(request).WaitAsync(Bound));

        Assert.Contains("2 names (hard links)", refused.Message);
        Assert.Equal(Precious, File.ReadAllBytes(victim));
        Assert.False(File.Exists(request.DestinationPath));
    }

    [Theory]
    [InlineData(Xet)]
    [InlineData(Plain)]
    public async Task A_link_at_the_destination_is_replaced_by_the_file_and_its_target_is_kept(string repoPath)
    {
        // The destination is the user's folder, not the working folder: with Overwrite, a link there is replaced by
        // the downloaded file (the rename replaces the name), never written through.
        var file = repoPath == Xet ? ScenarioData.IncompressibleFile(Xet, 1 << 20, seed: 3) : ScenarioData.IncompressibleFile(Plain, 256 << 10, seed: 4);
        await using var emulator = await StartAsync();
        await using var session = new XetSession(Options(emulator));
        var request = emulator.Request(repoPath, overwrite: true);
        var victim = Victim();
        Plant(request.DestinationPath, victim);

        await session.DownloadAsync(request).WaitAsync(Bound);

        Assert.Null(new FileInfo(request.DestinationPath).LinkTarget);
        Assert.Equal(EmulatorFixture.Content(file), File.ReadAllBytes(request.DestinationPath));
        Assert.Equal(Precious, File.ReadAllBytes(victim));
    }

    [DllImport("libc", EntryPoint = "link", SetLastError = true)]
    private static extern int Link(string existing, string newName);
}
