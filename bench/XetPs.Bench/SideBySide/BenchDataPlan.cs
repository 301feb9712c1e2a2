using System;
using System.Collections.Generic;
using System.Linq;
using XetPs.Emulator;
using XetPs.Emulator.Scenario;
using XetPs.Emulator.Store;
using XetPs.Hub;

namespace XetPs.Bench.SideBySide;

/// <summary>One data set as planned: the repo it lives in, the file (or all files) a client downloads, and how the
/// emulator builds the repo's content.</summary>
public sealed record PlannedDataset(string Name, string Group, RepoId Repo, string? Path,
                                    Func<IReadOnlyList<RepoFile>> Content, long XetMinSize);

/// <summary>
/// The data sets of issue 6 at two sizes. Every file is generated (seeded, a pure function of its parameters) and
/// carries the emulator's cache key, so a persistent store builds each once per machine; the scaling series reuses the
/// incompressible generator with the same seed, so its 2 GiB member and the incompressible data set are one build.
/// Groups drive the summary: "incompressible" (vs curl), "float", "seed" (plus the 2 GiB-buffer reference),
/// "small" (many files), "scaling" (seconds per GiB).
/// </summary>
public static class BenchDataPlan
{
    public const int Seed = 6;
    private const long MiB = 1L << 20, GiB = 1L << 30;

    public static IReadOnlyList<PlannedDataset> For(string profile) => profile switch
    {
        "quick" => Build(incompressible: 256 * MiB, floats: 128 * MiB, seed: 256 * MiB, smallFiles: 200,
                         scaling: [64 * MiB, 128 * MiB, 256 * MiB]),
        "full" => Build(incompressible: 2 * GiB, floats: 1 * GiB, seed: 2 * GiB, smallFiles: 2000,
                        scaling: [256 * MiB, 512 * MiB, 1 * GiB, 2 * GiB, 4 * GiB]),
        _ => throw new ArgumentException($"unknown profile '{profile}': expected quick or full"),
    };

    private static IReadOnlyList<PlannedDataset> Build(long incompressible, long floats, long seed, int smallFiles,
                                                       long[] scaling)
    {
        var list = new List<PlannedDataset>
        {
            Single($"incompressible-{Size(incompressible)}", "incompressible", "bench/incompressible",
                   $"random-{Size(incompressible)}.bin", p => ScenarioData.IncompressibleFile(p, incompressible, Seed)),
            Single($"float-bg4-{Size(floats)}", "float", "bench/float",
                   $"weights-{Size(floats)}.safetensors", p => ScenarioData.SafetensorsFile(p, floats, Seed)),
            Single($"seed-shape-{Size(seed)}", "seed", "bench/seed", $"seed-{Size(seed)}.bin",
                   p => ScenarioData.SeedIncidentFile(p, new SeedIncident { FileSize = seed, Seed = Seed })),
            // Its own repo per count: the data set is "every file of the repo", so profiles must not share it.
            new($"small-files-{smallFiles}", "small", RepoId.Parse($"bench/small-{smallFiles}"), null,
                // 16..256 KiB each, all stored in Xet (XetMinSize 0): the per-file cost of resolve + reconstruction.
                () => ScenarioData.ManySmallFiles("files", smallFiles, 16 << 10, 256 << 10, Seed), XetMinSize: 0),
        };
        foreach (var size in scaling)
            list.Add(Single($"scaling-{Size(size)}", "scaling", "bench/scaling", $"random-{Size(size)}.bin",
                            p => ScenarioData.IncompressibleFile(p, size, Seed)));
        return list;
    }

    /// <summary>The size of the file in the reported incident: 48.5 GB.</summary>
    public const long SoakDefaultBytes = 48_500_000_000;

    /// <summary>The seed incident at full size, for the soak (<c>bench/soak</c>): its xorbs are generated on request
    /// (the store keeps only their chunk hashes), so the disk holds one copy of the file, the client's.</summary>
    public static IReadOnlyList<PlannedDataset> Soak(long bytes) =>
    [
        Single("seed-incident-soak", "soak", "bench/soak", SoakPath(bytes),
               p => ScenarioData.SeedIncidentFile(p, new SeedIncident { FileSize = bytes, Seed = Seed, Generated = true })),
    ];

    public static string SoakPath(long bytes) => $"seed-{bytes}.bin";

    private static PlannedDataset Single(string name, string group, string repo, string path, Func<string, RepoFile> file) =>
        new(name, group, RepoId.Parse(repo), path, () => [file(path)], XetMinSize: 1 << 20);

    public static string Size(long bytes) =>
        bytes % GiB == 0 ? $"{bytes / GiB}g" : bytes % MiB == 0 ? $"{bytes / MiB}m" : $"{bytes}b";

    /// <summary>The repos to commit: data sets sharing a repo (the scaling series) are one commit of all their files.</summary>
    public static IEnumerable<(RepoId Repo, IReadOnlyList<RepoFile> Files, long XetMinSize)> Repos(IReadOnlyList<PlannedDataset> plan) =>
        plan.GroupBy(d => d.Repo)
            .Select(g => (g.Key, (IReadOnlyList<RepoFile>)g.SelectMany(d => d.Content()).ToList(), g.Min(d => d.XetMinSize)));
}
