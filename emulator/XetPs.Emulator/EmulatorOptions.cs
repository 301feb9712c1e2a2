using System;
using System.Collections.Generic;

namespace XetPs.Emulator;

/// <summary>
/// Settings of one emulator instance. The server keeps this object and reads the lifetimes, page size and range
/// limits at request time, so a test may change them while the server runs (e.g. shorten the URL lifetime).
/// </summary>
public sealed class EmulatorOptions
{
    /// <summary>Where xorbs, file reconstructions, the chunk index and repo refs live; reused across runs.
    /// Null: a fresh temporary directory, deleted when the server is disposed.</summary>
    public string? StoreDirectory { get; set; }

    /// <summary>Loopback port; 0 picks an ephemeral port.</summary>
    public int Port { get; set; }

    /// <summary>Entries per tree page before a <c>Link: rel="next"</c> is sent.</summary>
    public int TreePageSize { get; set; } = 1000;

    /// <summary>Lifetime of CAS access tokens handed out by xet-read-token.</summary>
    public TimeSpan CasTokenLifetime { get; set; } = TimeSpan.FromHours(1);

    /// <summary>Lifetime of presigned xorb URLs handed out in reconstructions.</summary>
    public TimeSpan UrlLifetime { get; set; } = TimeSpan.FromHours(1);

    /// <summary>Files of at least this many bytes are stored in Xet; smaller ones stay plain git files.
    /// 0 stores every file in Xet.</summary>
    public long XetMinSize { get; set; } = 1 << 20;

    /// <summary>Most byte ranges one presigned URL entry carries (V2); more ranges of a xorb make more entries.</summary>
    public int MaxRangesPerUrl { get; set; } = 500;

    /// <summary>Hub tokens the emulator accepts (private repos need one; a token not in this set gets 401).</summary>
    public ISet<string> HubTokens { get; } = new HashSet<string>(StringComparer.Ordinal) { DefaultHubToken };

    /// <summary>Seed of the fault decisions (which request of a route gets a fault at a given rate).</summary>
    public int FaultSeed { get; set; } = 1;

    /// <summary>Write Kestrel warnings to the console (the command does; tests keep it quiet).</summary>
    public bool ConsoleWarnings { get; set; }

    /// <summary>The token accepted by default, for tests and the sample repo.</summary>
    public const string DefaultHubToken = "hf_emulator_token";

    internal void Validate()
    {
        if (Port is < 0 or > 65535) throw new ArgumentOutOfRangeException(nameof(Port), Port, "Port must be 0..65535.");
        if (TreePageSize < 1) throw new ArgumentOutOfRangeException(nameof(TreePageSize), TreePageSize, "Tree page size must be at least 1.");
        if (MaxRangesPerUrl < 1) throw new ArgumentOutOfRangeException(nameof(MaxRangesPerUrl), MaxRangesPerUrl, "At least one range per URL.");
        if (XetMinSize < 0) throw new ArgumentOutOfRangeException(nameof(XetMinSize), XetMinSize, "Xet min size cannot be negative.");
    }
}
