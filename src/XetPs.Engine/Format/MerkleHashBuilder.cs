using System;
using System.Collections.Generic;

namespace XetPs.Format;

/// <summary>
/// Streaming form of the §5.3 aggregation, used to verify a file chunk by chunk without holding its chunk list.
/// Each tree level keeps only its open group (at most 9 nodes), so memory is O(log n). Invariant: a group is
/// closed as soon as the batch rule can decide its cut without seeing the end of the level (a node at index >= 2
/// whose hash % 4 == 0, or 9 nodes); whatever is open at the end is one final group, exactly as the batch
/// algorithm sees the tail of each level. Hence the result equals <see cref="XetHashing.XorbHash"/> and
/// <see cref="XetHashing.FileHash"/> over the same nodes.
/// </summary>
public sealed class MerkleHashBuilder
{
    private readonly List<Level> _levels = new();
    private bool _finished;

    private sealed class Level
    {
        public readonly MerkleNode[] Open = new MerkleNode[XetHashing.MaxGroup];
        public int OpenCount;
        public long Total; // nodes ever added to this level
    }

    /// <summary>Chunks added so far.</summary>
    public long Count => _levels.Count == 0 ? 0 : _levels[0].Total;

    public void Add(XetHash hash, ulong size)
    {
        if (_finished)
            throw new InvalidOperationException("This MerkleHashBuilder has already produced its hash; create a new one.");
        AddAt(0, new MerkleNode(hash, size));
    }

    public XetHash FinishXorbHash() => Finish();

    public XetHash FinishFileHash()
    {
        var root = Finish();
        if (Count == 0)
            return XetHash.Zero;
        Span<byte> zeroSalt = stackalloc byte[32];
        zeroSalt.Clear();
        return XetHashing.Hmac(root, zeroSalt);
    }

    private void AddAt(int depth, MerkleNode node)
    {
        if (depth == _levels.Count)
            _levels.Add(new Level());
        var level = _levels[depth];
        level.Open[level.OpenCount++] = node;
        level.Total++;
        int n = level.OpenCount;
        // Checked on every add, so only the newest node can be a new cut point.
        if ((n >= 3 && node.Hash.Modulo(XetHashing.BranchingFactor) == 0) || n == XetHashing.MaxGroup)
            CloseGroup(depth);
    }

    private void CloseGroup(int depth)
    {
        var level = _levels[depth];
        var merged = XetHashing.MergedHashOfSequence(new ReadOnlySpan<MerkleNode>(level.Open, 0, level.OpenCount));
        level.OpenCount = 0;
        AddAt(depth + 1, merged);
    }

    private XetHash Finish()
    {
        if (_finished)
            throw new InvalidOperationException("This MerkleHashBuilder has already produced its hash; create a new one.");
        _finished = true;
        if (_levels.Count == 0)
            return XetHash.Zero;
        // Walk up: a level that ever held a single node is the root (and then nothing is above it);
        // otherwise its open tail is the level's last group.
        for (int depth = 0; ; depth++)
        {
            var level = _levels[depth];
            if (level.Total == 1)
                return level.Open[0].Hash;
            if (level.OpenCount > 0)
                CloseGroup(depth);
        }
    }
}
