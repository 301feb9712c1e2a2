using System;
using System.Collections.Generic;
using System.Linq;

namespace XetPs.Emulator.Faults;

/// <summary>
/// The faults in force, settable while the server runs. Each rule counts the requests that match it; whether the
/// k-th matching request gets the fault is a pure function of (seed, rule number, k), so a run with the same seed
/// and the same request order gets the same faults. At most one rule applies to a request: the first that fires.
/// </summary>
public sealed class FaultPlan
{
    private readonly object _gate = new();
    private readonly List<Slot> _slots = new();
    private int _seed;
    private int _added;

    public FaultPlan(int seed = 1) => _seed = seed;

    /// <summary>Seed of the rate decisions; setting it restarts every rule's count.</summary>
    public int Seed
    {
        get { lock (_gate) return _seed; }
        set { lock (_gate) { _seed = value; foreach (var s in _slots) s.Reset(); } }
    }

    /// <summary>The rules in force, in the order they are tried.</summary>
    public IReadOnlyList<FaultRule> Rules
    {
        get { lock (_gate) return _slots.Select(s => s.Rule).ToArray(); }
    }

    /// <summary>Adds a rule; returns it (validated) for chaining.</summary>
    public FaultRule Add(FaultRule rule)
    {
        rule = rule.Validated();
        lock (_gate) _slots.Add(new Slot(rule, ++_added));
        return rule;
    }

    /// <summary>Adds a rule in the command-line form, e.g. <c>xorb:status=503,rate=0.3,retry-after=1</c>.</summary>
    public FaultRule Add(string text) => Add(FaultRule.Parse(text));

    public void Remove(FaultRule rule)
    {
        lock (_gate) _slots.RemoveAll(s => ReferenceEquals(s.Rule, rule) || s.Rule == rule);
    }

    public void Clear()
    {
        lock (_gate) _slots.Clear();
    }

    /// <summary>How many times a rule has fired so far.</summary>
    public int AppliedCount(FaultRule rule)
    {
        lock (_gate) return _slots.Where(s => s.Rule == rule).Sum(s => s.Applied);
    }

    /// <summary>The rule that applies to this request, or null. Counts the request against every matching rule it reaches.</summary>
    internal FaultRule? Decide(EmulatorRoute route, string path)
    {
        lock (_gate)
        {
            foreach (var slot in _slots)
            {
                var r = slot.Rule;
                if (r.Route != route) continue;
                if (r.PathContains is not null && path.IndexOf(r.PathContains, StringComparison.Ordinal) < 0) continue;
                long k = slot.Matched++;
                if (k < r.Skip) continue;
                if (r.Times is int t && slot.Applied >= t) continue;
                if (r.Rate < 1.0 && Draw(_seed, slot.Number, k) >= r.Rate) continue;
                slot.Applied++;
                return r;
            }
            return null;
        }
    }

    /// <summary>A uniform value in [0,1) from (seed, rule, k): SplitMix64 finalizer.</summary>
    private static double Draw(int seed, int rule, long k)
    {
        ulong z = unchecked((ulong)seed * 0x9E3779B97F4A7C15UL + (ulong)rule * 0xD1B54A32D192ED03UL + (ulong)k * 0xBF58476D1CE4E5B9UL);
        z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9UL;
        z = (z ^ (z >> 27)) * 0x94D049BB133111EBUL;
        z ^= z >> 31;
        return (z >> 11) * (1.0 / (1UL << 53));
    }

    private sealed class Slot
    {
        public Slot(FaultRule rule, int number) { Rule = rule; Number = number; }
        public FaultRule Rule { get; }
        public int Number { get; }
        public long Matched;
        public int Applied;
        public void Reset() { Matched = 0; Applied = 0; }
    }
}
