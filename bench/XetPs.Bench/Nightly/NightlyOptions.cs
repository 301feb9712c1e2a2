using System;
using System.Collections.Generic;
using System.Globalization;
using System.Linq;

namespace XetPs.Bench.Nightly;

/// <summary>
/// The nightly benchmark's settings: the base file's size, the two revisions (bytes appended, bytes changed in the
/// middle), the clients and repetitions. Parsed from the command line, validated, with the defaults of issue 33's bench.
/// </summary>
public sealed record NightlyOptions
{
    /// <summary>The clients, in the order they run within a repetition (rotated by one from repetition to repetition).</summary>
    public static readonly IReadOnlyList<string> AllClients = ["xetps", "cmdlet", "hfjs", "curl"];

    public static readonly IReadOnlyList<string> AllVariants = ["append", "middle"];

    public const string Usage =
        "[--size-mib 512] [--append-mib 16] [--change-mib SIZE/100] [--variants append,middle] [--clients xetps,cmdlet,hfjs,curl] " +
        "[--reps 3] [--warm-old-copy] [--seed 1] [--timeout-s 600] [--work DIR] [--repo-root DIR]: a file and its small revision, downloaded over the old copy";

    public long SizeMiB { get; init; } = 512;
    public double AppendMiB { get; init; } = 16;

    /// <summary>MiB replaced in the middle; null: 1% of the base.</summary>
    public double? ChangeMiB { get; init; }

    public IReadOnlyList<string> Variants { get; init; } = AllVariants;
    public IReadOnlyList<string> Clients { get; init; } = AllClients;
    public int Reps { get; init; } = 3;

    /// <summary>Leave the old copies in the page cache; by default they are evicted, as a nightly job finds them on disk.</summary>
    public bool WarmOldCopy { get; init; }
    public int Seed { get; init; } = 1;
    public TimeSpan Timeout { get; init; } = TimeSpan.FromMinutes(10);
    public string? Work { get; init; }
    public string? RepoRoot { get; init; }

    public long SizeBytes => SizeMiB << 20;

    /// <summary>The revisions to measure, in the order given.</summary>
    public IReadOnlyList<NightlyVariant> Plan() =>
        Variants.Select(v => v == "append"
                ? NightlyVariant.Append(SizeBytes, MiBToBytes(AppendMiB))
                : NightlyVariant.Middle(SizeBytes, ChangeMiB is { } change ? MiBToBytes(change) : SizeBytes / 100))
            .ToList();

    public static NightlyOptions Parse(IReadOnlyList<string> args)
    {
        var options = new NightlyOptions();
        for (var i = 0; i < args.Count; i++)
        {
            var name = args[i];
            string Value() => i + 1 < args.Count ? args[++i] : throw new ArgumentException($"{name} needs a value");
            options = name switch
            {
                "--size-mib" => options with { SizeMiB = long.Parse(Value(), CultureInfo.InvariantCulture) },
                "--append-mib" => options with { AppendMiB = double.Parse(Value(), CultureInfo.InvariantCulture) },
                "--change-mib" => options with { ChangeMiB = double.Parse(Value(), CultureInfo.InvariantCulture) },
                "--variants" => options with { Variants = List(name, Value(), AllVariants) },
                "--clients" => options with { Clients = List(name, Value(), AllClients) },
                "--reps" => options with { Reps = int.Parse(Value(), CultureInfo.InvariantCulture) },
                "--warm-old-copy" => options with { WarmOldCopy = true },
                "--seed" => options with { Seed = int.Parse(Value(), CultureInfo.InvariantCulture) },
                "--timeout-s" => options with { Timeout = TimeSpan.FromSeconds(double.Parse(Value(), CultureInfo.InvariantCulture)) },
                "--work" => options with { Work = Value() },
                "--repo-root" => options with { RepoRoot = Value() },
                _ => throw new ArgumentException($"unknown argument {name}"),
            };
        }
        if (options.SizeMiB < 1) throw new ArgumentException("--size-mib must be >= 1");
        if (!(options.AppendMiB > 0)) throw new ArgumentException("--append-mib must be > 0");
        if (options.ChangeMiB is { } c && !(c > 0 && MiBToBytes(c) < options.SizeBytes))
            throw new ArgumentException("--change-mib must be > 0 and less than --size-mib");
        if (options.Reps < 1) throw new ArgumentException("--reps must be >= 1");
        if (!(options.Timeout > TimeSpan.Zero)) throw new ArgumentException("--timeout-s must be > 0");
        return options;
    }

    private static long MiBToBytes(double mib) => (long)Math.Round(mib * (1 << 20));

    /// <summary>A comma-separated choice among <paramref name="known"/>, kept in the known order and without repeats.</summary>
    private static IReadOnlyList<string> List(string name, string value, IReadOnlyList<string> known)
    {
        var given = value.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        var unknown = given.Except(known, StringComparer.Ordinal).ToList();
        if (unknown.Count > 0) throw new ArgumentException($"{name}: unknown {string.Join(", ", unknown)} (known: {string.Join(", ", known)})");
        if (given.Length == 0) throw new ArgumentException($"{name} needs at least one of {string.Join(", ", known)}");
        return known.Where(given.Contains).ToList();
    }
}
