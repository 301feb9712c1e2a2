using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using System.Reflection;

namespace XetPs.Bench.SideBySide;

/// <summary>Where the run finds its pieces: the emulator's endpoint and the built tools of the repository.</summary>
public sealed record BenchEnvironment(Uri Hub, string RepoRoot, string BenchAssembly, string? HubToken, long BufferBytes)
{
    public string HubText => Hub.ToString().TrimEnd('/');
}

/// <summary>The command line one client runs for one data set, writing into <c>Destination</c>.</summary>
public sealed record ClientCommand(string FileName, IReadOnlyList<string> Arguments,
                                   IReadOnlyDictionary<string, string>? Environment = null);

/// <summary>
/// One client of the side-by-side run. <see cref="WritesFiles"/> says whether its output is the files themselves
/// (verified by sha256) or only the raw xorb ranges (curl, verified by its byte count against the reconstruction).
/// A <see cref="HeadToHeadOnly"/> client runs in the head-to-head rounds and not in the table.
/// </summary>
public sealed record BenchClient(string Name, string Description, bool WritesFiles,
                                 Func<BenchDataset, bool> Supports,
                                 Func<BenchEnvironment, BenchDataset, string, ClientCommand> Command,
                                 bool HeadToHeadOnly = false)
{
    /// <summary>How many times the "engine-warm" client downloads the file in its one process; the last is timed. The
    /// runtime's tiered compilation goes on for about two 2 GiB downloads (1,300 methods compiled in the first, 1,100 in
    /// the second, under 40 from the fourth on; 2026-12-03), so the third is the first warm one.</summary>
    public const int WarmPasses = 3;

    /// <summary>The clients, in the order they run within each repetition (A B C A B C ...). The scaling series is
    /// about the engine alone (seconds per GiB across sizes), so only the engine, the engine in a warm process and curl
    /// run there.</summary>
    public static IReadOnlyList<BenchClient> All(int curlParallel) =>
    [
        new("curl", "curl, the reconstruction's xorb ranges, one stream, bodies written to files (transfer + write; no decode)", false,
            d => d.IsSingleFile, (env, d, dest) => Curl(env, d, dest, 1, save: true)),
        new("curl-null", "the same ranges, one stream, bodies discarded (the pure transfer limit)", false,
            d => d.IsSingleFile && d.Group != "scaling", (env, d, dest) => Curl(env, d, dest, 1, save: false)),
        new($"curl-p{curlParallel}", $"the same ranges with curl --parallel --parallel-max {curlParallel}, bodies discarded", false,
            d => d.IsSingleFile && d.Group != "scaling", (env, d, dest) => Curl(env, d, dest, curlParallel, save: false)),
        new("engine", "XetPs engine (XetSession) from a console driver, verification on", true,
            _ => true, (env, d, dest) => Engine(env, d, dest, env.BufferBytes)),
        new("engine-default", "XetPs engine with its default settings (512 MiB buffer), verification on", true,
            d => d.Group == "incompressible", (env, d, dest) => Engine(env, d, dest, XetPs.Reconstruction.XetSessionOptions.DefaultBufferSize)),
        // In the table on the scaling series only (the head-to-head runs it on the incompressible file by name): its
        // s/GiB across sizes is the engine's own, with the process start and the runtime's tier-up left out.
        new("engine-warm", $"XetPs engine (64 MiB) in a warm process: the driver downloads the file {WarmPasses} times in one session and the last download is timed by its own clock", true,
            d => d.Group == "scaling", (env, d, dest) => Engine(env, d, dest, env.BufferBytes, WarmPasses)),
        new("engine-buf2g", "XetPs engine with a 2 GiB buffer (the seed shape's reference)", true,
            d => d.Group == "seed", (env, d, dest) => Engine(env, d, dest, 2L << 30)),
        new("cmdlet", "Save-XetFile through the hosted PowerShell (tools/ps)", true,
            d => d.Group != "scaling", Cmdlet),
        new("cmdlet-prompt", $"Save-XetFile through the hosted PowerShell (tools/ps), started {BenchReport.PromptPauseSeconds} s after PowerShell, as typed at a prompt; timed by its own clock", true,
            d => d.Group == "incompressible", (env, d, dest) => Cmdlet(env, d, dest, BenchReport.PromptPauseSeconds), HeadToHeadOnly: true),
        new("cmdlet-pwsh", "Save-XetFile in pwsh 7.6 (the PowerShell global tool's package, -NoProfile), as users run it", true,
            d => d.Group != "scaling", CmdletInPwsh),
        new("hfjs", "@huggingface/hub 2.17.5 downloadFile on Node", true,
            d => d.Group != "scaling", HuggingFaceJs),
    ];

    private static ClientCommand Curl(BenchEnvironment env, BenchDataset d, string dest, int parallel, bool save)
    {
        var args = new List<string>
        {
            "--hub", env.HubText, "--repo", d.Repo.ResolvePrefix, "--path", d.Path!, "--parallel", parallel.ToString(),
            "--work", dest,
        };
        if (save) args.AddRange(["--save-dir", Path.Combine(dest, "xorb-ranges")]);
        if (env.HubToken is not null) args.AddRange(["--token", env.HubToken]);
        return new(Path.Combine(env.RepoRoot, "bench", "clients", "curl-xorb-ranges"), args);
    }

    private static ClientCommand Engine(BenchEnvironment env, BenchDataset d, string dest, long bufferBytes, int passes = 1)
    {
        var args = new List<string>
        {
            env.BenchAssembly, "engine-download", "--hub", env.HubText, "--repo", d.Repo.ResolvePrefix, "--dest", dest,
            "--buffer-bytes", bufferBytes.ToString(),
        };
        if (passes > 1) args.AddRange(["--repeat", passes.ToString()]);
        args.AddRange(d.Path is null ? ["--all"] : ["--path", d.Path]);
        if (env.HubToken is not null) args.AddRange(["--token", env.HubToken]);
        return new("dotnet", args);
    }

    private static ClientCommand Cmdlet(BenchEnvironment env, BenchDataset d, string dest) => Cmdlet(env, d, dest, 0);

    private static ClientCommand Cmdlet(BenchEnvironment env, BenchDataset d, string dest, int pauseSeconds) =>
        new(Path.Combine(env.RepoRoot, "tools", "ps"),
            ["-Command", (pauseSeconds > 0 ? $"Start-Sleep -Seconds {pauseSeconds}; " : "") + CmdletScript(env, d, dest)]);

    /// <summary>The same script in pwsh, with the module tools/ps built (artifacts/module/XetPs) imported first.</summary>
    private static ClientCommand CmdletInPwsh(BenchEnvironment env, BenchDataset d, string dest)
    {
        var module = Path.Combine(env.RepoRoot, "artifacts", "module", "XetPs", "XetPs.psd1");
        var script = "Import-Module '" + module.Replace("'", "''") + "' -ErrorAction Stop; " + CmdletScript(env, d, dest);
        return new("dotnet", [PwshPath, "-NoProfile", "-NonInteractive", "-Command", script],
                   new Dictionary<string, string> { ["POWERSHELL_TELEMETRY_OPTOUT"] = "1", ["POWERSHELL_UPDATECHECK"] = "Off" });
    }

    /// <summary>pwsh.dll in the NuGet cache, where this project's restore put the PowerShell package.</summary>
    private static string PwshPath =>
        typeof(BenchClient).Assembly.GetCustomAttributes<AssemblyMetadataAttribute>().First(a => a.Key == "XetPsPwshPath").Value!;

    private static string CmdletScript(BenchEnvironment env, BenchDataset d, string dest)
    {
        // Single-quoted PowerShell literals: the values are ours (repo ids, repo paths, temp folders), and a quote
        // in them is doubled as PowerShell wants. One file is saved by path (resolve + download, as the engine driver
        // does); a whole repo goes through the listing, the pipeline users type.
        static string Quote(string s) => "'" + s.Replace("'", "''") + "'";
        var common = $"-Endpoint {Quote(env.HubText)}"
                     + (env.HubToken is null ? "" : $" -Token (ConvertTo-SecureString {Quote(env.HubToken)} -AsPlainText -Force)");
        var save = $"Save-XetFile -Destination {Quote(dest)} -BufferSize {env.BufferBytes} {common}";
        var pipeline = d.Path is null
            ? $"Get-XetFileList -Repo {Quote(d.Repo.ResolvePrefix)} -Recurse {common} | {save} | Out-Null"
            : $"{save} -Repo {Quote(d.Repo.ResolvePrefix)} -Path {Quote(d.Path)} | Out-Null";
        // A stopwatch around the pipeline, printed like the engine driver's result line, so the report can tell the
        // cmdlet layer's cost from PowerShell's own start-up (which a user at a prompt has already paid).
        return "$xetpsBenchClock = [System.Diagnostics.Stopwatch]::StartNew(); " + pipeline + "; " +
               "[Console]::Out.WriteLine('{\"seconds\":' + $xetpsBenchClock.Elapsed.TotalSeconds.ToString([System.Globalization.CultureInfo]::InvariantCulture) + '}')";
    }

    private static ClientCommand HuggingFaceJs(BenchEnvironment env, BenchDataset d, string dest)
    {
        var args = new List<string>
        {
            Path.Combine(env.RepoRoot, "bench", "hfjs", "download.mjs"), "--hub", env.HubText,
            "--repo", d.Repo.ResolvePrefix, "--dest", dest,
        };
        args.AddRange(d.Path is null ? ["--all"] : ["--path", d.Path]);
        if (env.HubToken is not null) args.AddRange(["--token", env.HubToken]);
        return new("node", args);
    }
}
