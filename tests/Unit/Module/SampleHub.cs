using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using System.Security;
using System.Threading.Tasks;
using XetPs.Emulator;
using XetPs.Emulator.Scenario;
using XetPs.Emulator.Store;
using XetPs.Hub;

namespace XetPs.Tests.Module;

/// <summary>
/// The emulator (a real Hub + CAS server on loopback) serving the built-in sample repo xetps/sample and a private
/// repo that needs the emulator's token, for the module's tests. One per test class; tests clear the request log
/// before the part they measure.
/// </summary>
public sealed class SampleHub : IAsyncLifetime
{
    public static readonly RepoId PrivateRepo = new(RepoType.Model, "xetps/private-sample");

    /// <summary>Many small plain files: many progress reports in little time.</summary>
    public static readonly RepoId ManyFilesRepo = new(RepoType.Model, "xetps/many-files");

    public const int ManyFilesCount = 60;

    /// <summary>One plain (non-Xet) file of 8 MiB: its download reports progress after every read, hundreds of times.</summary>
    public static readonly RepoId LargePlainRepo = new(RepoType.Model, "xetps/large-plain");

    public const int LargePlainSize = 8 << 20;

    public const int TreePageSize = 10;

    public EmulatorServer Server { get; private set; } = null!;

    public string Endpoint => Server.BaseUrl.ToString().TrimEnd('/');

    public async Task InitializeAsync()
    {
        // Small tree pages: listings of the many-files repo span several pages, as big repos do on the Hub.
        Server = await EmulatorServer.StartAsync(new EmulatorOptions { TreePageSize = TreePageSize });
        await SampleRepo.CreateAsync(Server.Store);
        Server.Store.CreateRepo(PrivateRepo, isPrivate: true);
        await Server.Store.CommitAsync(PrivateRepo, "main", new[] { RepoFile.FromText("secret.txt", "only with a token\n") });
        var many = new RepoFile[ManyFilesCount];
        for (var i = 0; i < many.Length; i++) many[i] = RepoFile.FromText($"shards/part-{i:D3}.txt", new string((char)('a' + i % 26), 2048 + i));
        await Server.Store.CommitAsync(ManyFilesRepo, "main", many);
        var large = new byte[LargePlainSize];
        new Random(8).NextBytes(large);
        await Server.Store.CommitAsync(LargePlainRepo, "main", new[] { RepoFile.FromBytes("large.bin", large).AsXet(false) });
    }

    public async Task DisposeAsync() => await Server.DisposeAsync();

    /// <summary>The sample repo's files at main, as the emulator stores them (path, size, sha256).</summary>
    public IReadOnlyList<StoredFile> SampleFiles => Server.Store.Resolve(SampleRepo.Id, "main")!.Files;

    public static SecureString Secure(string text)
    {
        var secure = new SecureString();
        foreach (var c in text) secure.AppendChar(c);
        secure.MakeReadOnly();
        return secure;
    }
}

/// <summary>A fresh folder under the temp directory, deleted with everything in it at the end of the test.</summary>
internal sealed class ScratchFolder : IDisposable
{
    public ScratchFolder()
    {
        Path = System.IO.Path.Combine(System.IO.Path.GetTempPath(), "xetps-module-" + Guid.NewGuid().ToString("n"));
        Directory.CreateDirectory(Path);
    }

    public string Path { get; }

    /// <summary>The files a user sees: everything but the engine's up-to-date records under .cache/xetps.</summary>
    public string[] Files() => Directory.GetFiles(Path, "*", SearchOption.AllDirectories)
        .Where(f => !f.Substring(Path.Length).Replace('\\', '/').StartsWith("/.cache/", StringComparison.Ordinal))
        .ToArray();

    public string Local(string repoPath) => System.IO.Path.Combine(Path, repoPath.Replace('/', System.IO.Path.DirectorySeparatorChar));

    public void Dispose()
    {
        if (Directory.Exists(Path)) Directory.Delete(Path, recursive: true);
    }
}
