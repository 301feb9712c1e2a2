using System.Collections.Generic;
using System.Diagnostics;
using System.Threading;

namespace XetPs.Reconstruction;

internal sealed partial class XorbRegistry
{
    /// <summary>
    /// What the no-stall argument relies on, checked under the lock at every exit of it (debug builds only):
    /// every registered block is consistent in its state (<see cref="XorbBlock.AssertInvariants"/>) and still has a
    /// planned use (else it was dropped); the idle list holds exactly the ready blocks with no claim, each once;
    /// every lease a block holds (its memory's, or its load's) is live and they are all counted in the permits held;
    /// every loading block has a load running; CAS permits are held by loads only, never more than exist.
    /// </summary>
    [Conditional("DEBUG")]
    private void AssertInvariants()
    {
        Debug.Assert(Monitor.IsEntered(_gate), "the registry's invariants are read under its lock");
        var idle = 0;
        var loading = 0;
        long charged = 0;
        var leases = new HashSet<BufferLease>();
        foreach (var pair in _blocks)
        {
            Debug.Assert(pair.Value.Count > 0, $"an empty block list of xorb {pair.Key} stayed registered");
            foreach (var block in pair.Value)
            {
                block.AssertInvariants();
                Debug.Assert(block.Xorb == pair.Key && !block.Dropped, $"{block} is registered under the wrong xorb or dropped");
                Debug.Assert(block.Planned > 0, $"{block} has no planned use but was not dropped");
                var shouldIdle = block.State == XorbBlockState.Ready && block.Claims == 0;
                Debug.Assert(shouldIdle == block.IdleNode is not null, $"{block} with {block.Claims} claims is {(block.IdleNode is null ? "not " : "")}idle");
                if (block.IdleNode is not null)
                {
                    Debug.Assert(block.IdleNode.List == _idle && ReferenceEquals(block.IdleNode.Value, block), $"{block}'s idle node is not in the idle list");
                    idle++;
                }
                if (block.State == XorbBlockState.Loading) loading++;
                foreach (var lease in new[] { block.Charge, block.LoadCharge })
                {
                    if (lease is null) continue;
                    Debug.Assert(leases.Add(lease), $"{block} shares its {lease} with another holder");
                    charged += lease.Bytes;
                }
            }
        }
        Debug.Assert(idle == _idle.Count, $"the idle list holds {_idle.Count} blocks, {idle} are ready with no claim");
        // Other holders (claims deciding, loads giving back their rest) may hold more, never less.
        Debug.Assert(charged <= Permits.Held, $"blocks and loads hold {charged} bytes of permits but only {Permits.Held} are held");
        Debug.Assert(loading <= _loader.Running, $"{loading} blocks are loading but {_loader.Running} loads run");
        Debug.Assert(_loader.CasPermitsHeld >= 0 && _loader.CasPermitsHeld <= _loader.CasConcurrency,
            $"{_loader.CasPermitsHeld} CAS permits held of {_loader.CasConcurrency}");
    }
}
