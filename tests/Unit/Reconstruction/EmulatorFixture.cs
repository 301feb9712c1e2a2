using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using System.Threading.Tasks;
using XetPs.Emulator;
using XetPs.Emulator.Scenario;
using XetPs.Emulator.Store;
using XetPs.Hub;
using XetPs.Reconstruction;

namespace XetPs.Tests.Reconstruction;

/// <summary>An emulator on loopback with one repository, a scratch destination folder, and session options for it.</summary>
internal sealed class EmulatorFixture : IAsyncDisposable
{
    private EmulatorFixture(EmulatorServer server, string root)
    {
        Server = server;
        Root = root;
    }

    public static RepoId Repo { get; } = new(RepoType.Model, "xetps/engine-specs");

    public EmulatorServer Server { get; }

    public string Root { get; }

    public string Revision { get; private set; } = "main";

    public static Task<EmulatorFixture> StartAsync(params RepoFile[] files) => StartAsync(null, files);

    /// <summary>With <paramref name="commit"/> options, e.g. XetMinSize = long.MaxValue to store every file plain.</summary>
    public static async Task<EmulatorFixture> StartAsync(CommitOptions? commit, params RepoFile[] files)
    {
        var server = await EmulatorServer.StartAsync(new EmulatorOptions { XetMinSize = 1024 });
        var root = Path.Combine(Path.GetTempPath(), "xetps-engine-" + Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(root);
        var fixture = new EmulatorFixture(server, root);
        server.Store.CreateRepo(Repo);
        var head = await server.Store.CommitAsync(Repo, "main", files, commit);
        fixture.Revision = head.Id;
        return fixture;
    }

    /// <summary>The bytes the emulator serves for <paramref name="path"/>.</summary>
    public static byte[] Content(RepoFile file)
    {
        using var stream = file.Open();
        using var copy = new MemoryStream();
        stream.CopyTo(copy);
        return copy.ToArray();
    }

    public XetSessionOptions Options(long buffer = 8 << 20, int cas = 4) => new()
    {
        Endpoint = Server.BaseUrl,
        HubToken = EmulatorOptions.DefaultHubToken,
        BufferSize = buffer,
        CasConcurrency = cas,
        SegmentSize = 1 << 20,
        RetryBaseDelay = TimeSpan.FromMilliseconds(10),
        MaxRetryDelay = TimeSpan.FromMilliseconds(100),
        ReadTimeout = TimeSpan.FromSeconds(10),
        StallTimeout = TimeSpan.FromSeconds(30),
    };

    public FileDownloadRequest Request(string path, bool overwrite = false) =>
        new(Repo, "main", path, SafePath.Combine(Root, path)) { Overwrite = overwrite };

    public async ValueTask DisposeAsync()
    {
        await Server.DisposeAsync();
        try
        {
            Directory.Delete(Root, recursive: true);
        }
        catch (IOException)
        {
            // A scratch folder left in /tmp is harmless.
        }
    }
}
