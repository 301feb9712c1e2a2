using System;
using System.Diagnostics;
using System.IO;
using System.Linq;
using System.Net.Http;
using System.Runtime.InteropServices;
using System.Text.Json;
using System.Text.RegularExpressions;
using System.Threading.Tasks;

namespace XetPs.Tests.Emulator;

/// <summary>The emulator as a command: serves a folder, prints its URL first, stops on SIGTERM.</summary>
public sealed class EmulatorCommandTests : IDisposable
{
    private readonly string _root = Path.Combine(Path.GetTempPath(), "xetps-emulator-cmd-" + Guid.NewGuid().ToString("N"));

    public EmulatorCommandTests()
    {
        Directory.CreateDirectory(Path.Combine(_root, "folder", "sub"));
        var bytes = new byte[300_000];
        new Random(5).NextBytes(bytes);
        File.WriteAllBytes(Path.Combine(_root, "folder", "weights.bin"), bytes);
        File.WriteAllText(Path.Combine(_root, "folder", "sub", "notes.txt"), "hello from a folder\n");
    }

    [DllImport("libc", SetLastError = true)]
    private static extern int kill(int pid, int sig);

    private Process Start(params string[] args)
    {
        var psi = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        psi.ArgumentList.Add(Path.Combine(AppContext.BaseDirectory, "XetPs.Emulator.dll"));
        foreach (string a in args) psi.ArgumentList.Add(a);
        return Process.Start(psi) ?? throw new InvalidOperationException("dotnet did not start.");
    }

    private static async Task<string> ReadLineAsync(Process p)
    {
        var line = p.StandardOutput.ReadLineAsync();
        if (await Task.WhenAny(line, Task.Delay(TimeSpan.FromSeconds(60))) != line)
            throw new TimeoutException("The emulator printed nothing; stderr: " + (p.HasExited ? p.StandardError.ReadToEnd() : "(running)"));
        return await line ?? throw new InvalidOperationException("The emulator closed stdout; stderr: " + p.StandardError.ReadToEnd());
    }

    [Fact]
    public async Task Command_serves_a_folder_and_prints_its_url_first()
    {
        using var p = Start("--store", Path.Combine(_root, "store"), "--repo", "org/folder=" + Path.Combine(_root, "folder"), "--xet-min-size", "0");
        try
        {
            string url = await ReadLineAsync(p);
            Assert.Matches(new Regex(@"^http://127\.0\.0\.1:\d+$"), url);
            Assert.Equal("org/folder", await ReadLineAsync(p));
            using var http = new HttpClient();
            var tree = JsonDocument.Parse(await http.GetStringAsync(url + "/api/models/org/folder/tree/main?recursive=true")).RootElement;
            var paths = tree.EnumerateArray().Select(e => e.GetProperty("path").GetString()).ToArray();
            Assert.Equal(new[] { "sub", "sub/notes.txt", "weights.bin" }, paths);
            Assert.All(tree.EnumerateArray().Where(e => e.GetProperty("type").GetString() == "file"), e => Assert.True(e.TryGetProperty("xetHash", out _)));
        }
        finally
        {
            if (!p.HasExited) p.Kill();
        }
    }

    [Fact]
    public async Task Command_listens_on_the_given_port_and_keeps_small_files_plain_by_default()
    {
        int port = LoopbackPort.Unused();
        using var p = Start("--store", Path.Combine(_root, "store4"), "--repo", "org/folder=" + Path.Combine(_root, "folder"), "--port", port.ToString(System.Globalization.CultureInfo.InvariantCulture));
        try
        {
            string url = await ReadLineAsync(p);
            Assert.Equal($"http://127.0.0.1:{port}", url);
            using var http = new HttpClient();
            var tree = JsonDocument.Parse(await http.GetStringAsync(url + "/api/models/org/folder/tree/main?recursive=true")).RootElement;
            var files = tree.EnumerateArray().Where(e => e.GetProperty("type").GetString() == "file")
                .ToDictionary(e => e.GetProperty("path").GetString()!, e => e.TryGetProperty("xetHash", out _));
            // Without --xet-min-size, files under 1 MiB stay plain git files, as small files do on the Hub (the
            // same folder served with --xet-min-size 0 is all Xet: Command_serves_a_folder_and_prints_its_url_first).
            Assert.Equal(new[] { ("sub/notes.txt", false), ("weights.bin", false) }, files.Select(f => (f.Key, f.Value)).OrderBy(f => f.Key));
        }
        finally
        {
            if (!p.HasExited) p.Kill();
        }
    }

    [Fact]
    public async Task Command_line_faults_are_in_force_from_the_start()
    {
        Directory.CreateDirectory(Path.Combine(_root, "folder", ".git"));
        File.WriteAllText(Path.Combine(_root, "folder", ".git", "HEAD"), "ref: refs/heads/main\n");
        using var p = Start("--store", Path.Combine(_root, "store3"), "--repo", "org/folder=" + Path.Combine(_root, "folder"),
                            "--fault", "tree:status=503,retry-after=7,times=1");
        try
        {
            string url = await ReadLineAsync(p);
            using var http = new HttpClient();
            using var first = await http.GetAsync(url + "/api/models/org/folder/tree/main?recursive=true");
            Assert.Equal(System.Net.HttpStatusCode.ServiceUnavailable, first.StatusCode);
            Assert.Equal(TimeSpan.FromSeconds(7), first.Headers.RetryAfter!.Delta);
            var tree = JsonDocument.Parse(await http.GetStringAsync(url + "/api/models/org/folder/tree/main?recursive=true")).RootElement;
            Assert.DoesNotContain(tree.EnumerateArray(), e => e.GetProperty("path").GetString()!.StartsWith(".git", StringComparison.Ordinal));
        }
        finally
        {
            if (!p.HasExited) p.Kill();
        }
    }

    [Fact]
    public async Task Command_stops_on_sigterm()
    {
        using var p = Start("--store", Path.Combine(_root, "store2"), "--repo", "datasets/org/folder=" + Path.Combine(_root, "folder"), "--port", "0");
        try
        {
            await ReadLineAsync(p);
            Assert.Equal("datasets/org/folder", await ReadLineAsync(p));
            if (OperatingSystem.IsWindows()) p.Kill();
            else Assert.Equal(0, kill(p.Id, 15));
            using var cts = new System.Threading.CancellationTokenSource(TimeSpan.FromSeconds(30));
            await p.WaitForExitAsync(cts.Token);
            if (!OperatingSystem.IsWindows()) Assert.Equal(0, p.ExitCode);
        }
        finally
        {
            if (!p.HasExited) p.Kill();
        }
    }

    [Fact]
    public async Task Command_rejects_a_missing_folder_with_a_clear_message()
    {
        using var p = Start("--repo", "org/x=" + Path.Combine(_root, "missing"));
        string err = await p.StandardError.ReadToEndAsync();
        await p.WaitForExitAsync();
        Assert.Equal(2, p.ExitCode);
        Assert.Contains("does not exist", err);
    }

    public void Dispose()
    {
        try { Directory.Delete(_root, recursive: true); } catch (IOException) { }
    }
}
