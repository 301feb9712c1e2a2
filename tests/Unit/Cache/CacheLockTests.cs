using System;
using System.IO;
using System.Threading;
using System.Threading.Tasks;
using XetPs.Cache;

namespace XetPs.Tests.Cache;

/// <summary>The blob lock against the calls Python's filelock makes (see <see cref="PythonFileLock"/>).</summary>
public sealed class CacheLockTests : IDisposable
{
    private static readonly TimeSpan Bound = TimeSpan.FromSeconds(30);
    private readonly string _root = Path.Combine(Path.GetTempPath(), "xetps-cachelock-" + Guid.NewGuid().ToString("N"));

    private string LockPath => Path.Combine(_root, ".locks", "models--org--name", new string('b', 64) + ".lock");

    public void Dispose()
    {
        if (Directory.Exists(_root)) Directory.Delete(_root, recursive: true);
    }

    [Fact]
    public async Task The_blob_lock_waits_while_python_holds_it()
    {
        // Python downloading the blob holds the lock: XetPs must wait, not download the same blob beside it.
        var python = PythonFileLock.TryAcquire(LockPath);
        Assert.NotNull(python);
        var waiting = CacheLock.AcquireAsync(LockPath, "f.bin", null, CancellationToken.None);
        await Task.Delay(300);
        Assert.False(waiting.IsCompleted);

        python!.Dispose();
        using var held = await waiting.WaitAsync(Bound);
        Assert.True(held.Held);
    }

    [Fact]
    public async Task Python_cannot_take_the_blob_lock_while_xetps_holds_it()
    {
        using (var held = await CacheLock.AcquireAsync(LockPath, "f.bin", null, CancellationToken.None).WaitAsync(Bound))
            Assert.Null(PythonFileLock.TryAcquire(LockPath));

        using var python = PythonFileLock.TryAcquire(LockPath);
        Assert.NotNull(python);
    }

    [Fact]
    public async Task A_wait_for_the_blob_lock_ends_when_cancelled()
    {
        using var python = PythonFileLock.TryAcquire(LockPath);
        using var cts = new CancellationTokenSource(200);
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => CacheLock.AcquireAsync(LockPath, "f.bin", null, cts.Token).WaitAsync(Bound));
    }
}
