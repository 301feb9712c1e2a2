using System;
using System.Diagnostics;
using System.Globalization;
using System.IO;
using System.Runtime.InteropServices;
using System.Threading.Tasks;
using XetPs.Emulator;
using XetPs.Emulator.Scenario;
using XetPs.Emulator.Store;

namespace XetPs.Bench.SideBySide;

/// <summary>
/// The emulator as the benchmark's server process: builds the data sets of a profile into a persistent store (each
/// generated file once per store, thanks to the emulator's cache keys), prints the base URL as its first line and
/// "ready" when every repo is committed, then serves until SIGINT/SIGTERM. It runs in its own process so that its CPU
/// and memory never count against a client.
/// </summary>
public static class BenchEmulatorCommand
{
    [BenchCommand("emulator", "--store DIR --profile quick|full|soak [--soak-bytes N] [--port N] [--fault route:key=value,...]...: serve the benchmark data sets")]
    private static async Task<int> RunAsync(string[] args)
    {
        string? store = null, profile = null;
        var port = 0;
        var soakBytes = BenchDataPlan.SoakDefaultBytes;
        var faults = new System.Collections.Generic.List<string>();
        for (var i = 0; i < args.Length; i++)
        {
            string Value() => i + 1 < args.Length ? args[++i] : throw new ArgumentException($"{args[i]} needs a value");
            switch (args[i])
            {
                case "--store": store = Value(); break;
                case "--profile": profile = Value(); break;
                case "--port": port = int.Parse(Value(), CultureInfo.InvariantCulture); break;
                case "--soak-bytes": soakBytes = long.Parse(Value(), CultureInfo.InvariantCulture); break;
                case "--fault": faults.Add(Value()); break;
                default: throw new ArgumentException($"unknown argument {args[i]}");
            }
        }
        if (store is null || profile is null) throw new ArgumentException("--store DIR and --profile quick|full|soak are required");
        var plan = profile == "soak" ? BenchDataPlan.Soak(soakBytes) : BenchDataPlan.For(profile);
        Directory.CreateDirectory(store);

        var stop = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        using var sigint = PosixSignalRegistration.Create(PosixSignal.SIGINT, c => { c.Cancel = true; stop.TrySetResult(); });
        using var sigterm = PosixSignalRegistration.Create(PosixSignal.SIGTERM, c => { c.Cancel = true; stop.TrySetResult(); });

        await using var server = await EmulatorServer.StartAsync(new EmulatorOptions { StoreDirectory = store, Port = port })
                                                     .ConfigureAwait(false);
        Console.WriteLine(server.BaseUrl.ToString().TrimEnd('/'));
        foreach (var (repo, files, xetMinSize) in BenchDataPlan.Repos(plan))
        {
            var watch = Stopwatch.StartNew();
            await server.Store.CommitAsync(repo, "main", files,
                new CommitOptions { Title = "Benchmark data " + profile, XetMinSize = xetMinSize }).ConfigureAwait(false);
            Console.Error.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"emulator: {repo.Name}: {files.Count} file(s) ready in {watch.Elapsed.TotalSeconds:F1} s"));
        }
        // Faults after the data is built (building reads the store, not the routes): the soak's steadiness under them.
        foreach (var fault in faults) server.Faults.Add(fault);
        Console.WriteLine("ready");
        await stop.Task.ConfigureAwait(false);
        foreach (var rule in server.Faults.Rules)
            Console.Error.WriteLine($"emulator: fault {rule}: applied {server.Faults.AppliedCount(rule)} times");
        return 0;
    }
}
