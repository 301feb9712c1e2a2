using System;
using System.Collections.Generic;
using System.Globalization;
using System.IO;
using XetPs.Hub;

namespace XetPs.Emulator;

/// <summary>
/// The command's arguments: <c>--store DIR --repo org/name=FOLDER [--repo ...] [--port N] [--xet-min-size BYTES]
/// [--sample] [--private org/name] [--token T] [--fault route:k=v,...] [--fault-seed N] [--tree-page-size N]
/// [--token-lifetime SECONDS] [--url-lifetime SECONDS] [--max-ranges-per-url N] [--incident BYTES] [--log]</c>. Errors name the argument.
/// </summary>
public sealed class EmulatorCommandLine
{
    public string? StoreDirectory { get; private set; }
    public List<(RepoId Repo, string Folder)> Repos { get; } = new();
    public List<RepoId> PrivateRepos { get; } = new();
    public List<string> Tokens { get; } = new();
    public List<string> Faults { get; } = new();
    public int Port { get; private set; }
    public long? XetMinSize { get; private set; }
    public bool Sample { get; private set; }

    /// <summary>Size of the seed-incident file served as <c>xetps/incident</c> (built once per store).</summary>
    public long? IncidentSize { get; private set; }
    public bool Help { get; private set; }

    /// <summary>Print each request's log line to standard error.</summary>
    public bool LogRequests { get; private set; }
    public int? FaultSeed { get; private set; }
    public int? TreePageSize { get; private set; }
    public TimeSpan? TokenLifetime { get; private set; }
    public TimeSpan? UrlLifetime { get; private set; }
    public int? MaxRangesPerUrl { get; private set; }

    public const string Usage =
        "usage: XetPs.Emulator --store <dir> --repo <org/name>=<folder> [--repo ...] [--port N] [--xet-min-size BYTES]\n" +
        "                      [--sample] [--private <org/name>] [--token <hub token>] [--fault <route:key=value,...>]\n" +
        "                      [--fault-seed N] [--tree-page-size N] [--token-lifetime SECONDS] [--url-lifetime SECONDS]\n" +
        "                      [--max-ranges-per-url N] [--incident BYTES] [--log]\n" +
        "Prints the base URL as the first line, then the repo names, and serves until SIGINT/SIGTERM.\n" +
        "--log prints one line per request (method, path, range, status, bytes, fault) to standard error.\n" +
        "Without --repo the sample repo xetps/sample is served. --incident serves xetps/incident: incident.bin, about BYTES\n" +
        "long, 2366 terms over 932 xorbs (the seed incident's shape). Fault routes: tree, resolve, token, reconstruction, xorb;\n" +
        "keys: status, rate, retry-after, reset-after, truncate-after, stall, stall-after, throughput, latency,\n" +
        "corrupt-at, hostile (dotdot|absolute|device|lying-length|chunk-header|huge-json|huge-fetch|straddle|next-loop|redirect-loop), skip, times, path.";

    public static EmulatorCommandLine Parse(IReadOnlyList<string> args)
    {
        var c = new EmulatorCommandLine();
        for (int i = 0; i < args.Count; i++)
        {
            string a = args[i];
            string Value()
            {
                if (i + 1 >= args.Count) throw new ArgumentException($"{a} needs a value.");
                return args[++i];
            }
            switch (a)
            {
                case "--store": c.StoreDirectory = Value(); break;
                case "--repo":
                    {
                        string v = Value();
                        int eq = v.IndexOf('=');
                        if (eq <= 0 || eq == v.Length - 1) throw new ArgumentException($"--repo '{v}': expected <org/name>=<folder>.");
                        c.Repos.Add((RepoId.Parse(v.Substring(0, eq)), v.Substring(eq + 1)));
                        break;
                    }
                case "--private": c.PrivateRepos.Add(RepoId.Parse(Value())); break;
                case "--token": c.Tokens.Add(Value()); break;
                case "--fault": c.Faults.Add(Value()); break;
                case "--port": c.Port = Int(a, Value(), 0, 65535); break;
                case "--xet-min-size": c.XetMinSize = Long(a, Value()); break;
                case "--fault-seed": c.FaultSeed = Int(a, Value(), int.MinValue, int.MaxValue); break;
                case "--tree-page-size": c.TreePageSize = Int(a, Value(), 1, int.MaxValue); break;
                case "--max-ranges-per-url": c.MaxRangesPerUrl = Int(a, Value(), 1, int.MaxValue); break;
                case "--token-lifetime": c.TokenLifetime = TimeSpan.FromSeconds(Long(a, Value())); break;
                case "--url-lifetime": c.UrlLifetime = TimeSpan.FromSeconds(Long(a, Value())); break;
                case "--sample": c.Sample = true; break;
                case "--log": c.LogRequests = true; break;
                case "--incident": c.IncidentSize = Long(a, Value()); break;
                case "-h": case "--help": c.Help = true; break;
                default: throw new ArgumentException($"Unknown argument '{a}'.");
            }
        }
        foreach (var (repo, folder) in c.Repos)
            if (!Directory.Exists(folder)) throw new ArgumentException($"--repo {repo}: folder '{folder}' does not exist.");
        return c;
    }

    /// <summary>The server options these arguments describe.</summary>
    public EmulatorOptions ToOptions()
    {
        var o = new EmulatorOptions
        {
            StoreDirectory = StoreDirectory ?? Path.Combine(Path.GetTempPath(), "xetps-emulator-store"),
            Port = Port,
            ConsoleWarnings = true,
        };
        if (XetMinSize is long m) o.XetMinSize = m;
        if (FaultSeed is int s) o.FaultSeed = s;
        if (TreePageSize is int p) o.TreePageSize = p;
        if (TokenLifetime is TimeSpan t) o.CasTokenLifetime = t;
        if (UrlLifetime is TimeSpan u) o.UrlLifetime = u;
        if (MaxRangesPerUrl is int r) o.MaxRangesPerUrl = r;
        foreach (string token in Tokens) o.HubTokens.Add(token);
        return o;
    }

    private static int Int(string name, string v, int min, int max)
    {
        if (!int.TryParse(v, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out int n) || n < min || n > max)
            throw new ArgumentException($"{name} '{v}': expected an integer in {min}..{max}.");
        return n;
    }

    private static long Long(string name, string v)
    {
        if (!long.TryParse(v, NumberStyles.None, CultureInfo.InvariantCulture, out long n))
            throw new ArgumentException($"{name} '{v}': expected a non-negative integer.");
        return n;
    }
}
