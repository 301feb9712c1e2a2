using System;
using System.Collections.Generic;
using System.Linq;
using System.Threading.Tasks;
using XetPs.Reconstruction;

namespace XetPs.Tests.Reconstruction;

public class XorbBufferPoolTests
{
    private const int Page = XorbBufferPool.Granularity;

    [Fact]
    public void Pieces_are_whole_pages_carved_from_one_slab_without_overlap()
    {
        var pool = new XorbBufferPool(limit: 16 * Page);

        var a = pool.Rent(1);
        var b = pool.Rent(Page + 1);

        Assert.Same(a.Array, b.Array);
        Assert.Equal(Page, a.Length);
        Assert.Equal(2 * Page, b.Length);
        Assert.True(a.End <= b.Offset || b.End <= a.Offset);
        Assert.Equal(3 * Page, pool.InUse);
        Assert.Equal(16 * Page, pool.Reserved);
        Assert.Equal(0, pool.OwnArrays);
    }

    [Fact]
    public void Returned_pieces_merge_with_their_free_neighbours_so_a_later_load_of_any_size_fits()
    {
        var pool = new XorbBufferPool(limit: 8 * Page);
        var pieces = Enumerable.Range(0, 4).Select(_ => pool.Rent(2 * Page)).ToArray();

        // Returned out of order: the middle ones first, then the edges; the holes must join into one.
        pool.Return(pieces[1]);
        pool.Return(pieces[2]);
        pool.Return(pieces[0]);
        pool.Return(pieces[3]);
        var whole = pool.Rent(8 * Page);

        Assert.Equal(0, whole.Offset);
        Assert.Equal(0, pool.OwnArrays);
        Assert.Equal(8 * Page, pool.Reserved); // no second slab
    }

    [Fact]
    public void Reuse_takes_the_lowest_free_space_so_the_pages_ever_written_stay_few()
    {
        var pool = new XorbBufferPool(limit: 64 * Page);

        for (var i = 0; i < 100; i++)
        {
            var first = pool.Rent(3 * Page);
            var second = pool.Rent(5 * Page);
            pool.Return(first);
            pool.Return(second);
        }

        Assert.Equal(8 * Page, pool.Touched);
        Assert.Equal(0, pool.InUse);
    }

    [Fact]
    public void When_the_slabs_are_full_a_rent_gets_an_array_of_its_own_and_never_waits()
    {
        var pool = new XorbBufferPool(limit: 4 * Page);
        var held = pool.Rent(3 * Page);

        var overflow = pool.Rent(2 * Page);     // does not fit the 1 page left
        var tooLarge = pool.Rent(10 * Page);    // larger than any slab

        Assert.NotSame(held.Array, overflow.Array);
        Assert.Equal(2 * Page, overflow.Array.Length);
        Assert.Equal(2, pool.OwnArrays);
        Assert.Equal(12 * Page, pool.OwnArrayBytes);
        Assert.Equal(4 * Page, pool.Reserved);
        pool.Return(overflow); // left to the collector: the slab's accounting does not change
        pool.Return(tooLarge);
        Assert.Equal(3 * Page, pool.InUse);
    }

    [Fact]
    public void Slabs_are_added_up_to_the_limit_and_no_further()
    {
        var pool = new XorbBufferPool(limit: 10 * Page, maxSlabBytes: 4 * Page);

        var pieces = Enumerable.Range(0, 5).Select(_ => pool.Rent(2 * Page)).ToArray();

        Assert.Equal(3, pieces.Select(p => p.Array).Distinct().Count()); // slabs of 4, 4 and the 2 pages left
        Assert.Equal(10 * Page, pool.Reserved);
        Assert.Equal(0, pool.OwnArrays);
        pool.Rent(Page);
        Assert.Equal(1, pool.OwnArrays);
    }

    /// <summary>
    /// Four large loads of 3 pages, each followed by a one-page piece that stays held (a xorb range kept for a later
    /// term), then the large ones return: 16 pages in use at most, the buffer of a 24-page pool.
    /// </summary>
    private static long MissesWhenSmallPiecesAreHeldBetweenLargeOnes(XorbBufferPool pool)
    {
        var large = new List<XorbBuffer>();
        for (var i = 0; i < 4; i++)
        {
            large.Add(pool.Rent(3 * Page));
            pool.Rent(Page); // held to the end
        }
        foreach (var piece in large) pool.Return(piece);
        for (var i = 0; i < 3; i++) pool.Rent(4 * Page); // 4 held + 12 = 16 pages in use
        return pool.OwnArrays;
    }

    [Fact]
    public void Loads_of_up_to_a_slot_find_room_whatever_small_pieces_are_held_between_them()
    {
        // Buffer of 16 pages: slabs of 24, loads of at most a quarter (4 pages).
        var firstFit = new XorbBufferPool(limit: 24 * Page);
        var slotted = new XorbBufferPool(limit: 24 * Page, slotBytes: 4 * Page);

        Assert.Equal(1, MissesWhenSmallPiecesAreHeldBetweenLargeOnes(firstFit)); // holes of 3 pages: the third load missed
        Assert.Equal(0, MissesWhenSmallPiecesAreHeldBetweenLargeOnes(slotted));
        Assert.Equal(16 * Page, slotted.InUse);
    }

    [Fact]
    public void Large_pieces_start_at_slot_boundaries_and_small_ones_enter_the_slot_area_only_when_the_rest_is_full()
    {
        var pool = new XorbBufferPool(limit: 24 * Page, slotBytes: 4 * Page); // 4 slots (16 pages), then 8 pages

        var large = pool.Rent(3 * Page);       // half a slot or more: the first slot boundary
        var next = pool.Rent(2 * Page);        // the next boundary, not the page left after the first piece
        var small = pool.Rent(Page);           // after the slot area
        var rest = pool.Rent(7 * Page);        // fills what is after the slot area
        var spill = pool.Rent(Page);           // nowhere else: the lowest free page of the slot area

        Assert.Equal(0, large.Offset);
        Assert.Equal(4 * Page, next.Offset);
        Assert.Equal(16 * Page, small.Offset);
        Assert.Equal(17 * Page, rest.Offset);
        Assert.Equal(3 * Page, spill.Offset);
        Assert.Equal(8 * Page, pool.Rent(4 * Page).Offset); // the next whole slot
        pool.Return(spill);
        Assert.Throws<InvalidOperationException>(() => pool.Return(spill));
        Assert.Equal(0, pool.OwnArrays);
    }

    [Fact]
    public void A_piece_larger_than_a_slot_is_first_fit_after_the_slots()
    {
        var pool = new XorbBufferPool(limit: 24 * Page, slotBytes: 4 * Page);

        var larger = pool.Rent(6 * Page);

        Assert.Equal(16 * Page, larger.Offset);
        Assert.Equal(0, pool.OwnArrays);
    }

    [Fact]
    public void Returning_a_piece_twice_or_to_another_pool_throws_rather_than_hand_the_same_bytes_to_two_loads()
    {
        var pool = new XorbBufferPool(limit: 8 * Page);
        var other = new XorbBufferPool(limit: 8 * Page);
        var piece = pool.Rent(Page);
        var neighbour = pool.Rent(Page);
        pool.Return(piece);

        Assert.Throws<InvalidOperationException>(() => pool.Return(piece));
        Assert.Throws<InvalidOperationException>(() => other.Return(neighbour));
        pool.Return(neighbour);
        Assert.Equal(0, pool.InUse);
    }

    [Fact]
    public void Bad_sizes_are_refused_and_an_empty_piece_costs_nothing()
    {
        Assert.Throws<ArgumentOutOfRangeException>(() => new XorbBufferPool(limit: Page - 1));
        var pool = new XorbBufferPool(limit: 4 * Page);

        Assert.Throws<ArgumentOutOfRangeException>(() => pool.Rent(-1));
        Assert.Throws<ArgumentOutOfRangeException>(() => pool.Rent((long)int.MaxValue));
        var empty = pool.Rent(0);
        pool.Return(empty);
        Assert.Equal(0, empty.Length);
        Assert.Equal(0, pool.Reserved);
    }

    [Fact]
    public async Task Concurrent_rents_never_share_a_byte()
    {
        var pool = new XorbBufferPool(limit: 256 * Page, maxSlabBytes: 64 * Page);

        // Each worker stamps its pieces with its own byte and checks the stamp is intact before giving them back:
        // two pieces that overlapped would overwrite each other's stamp.
        var workers = Enumerable.Range(1, 8).Select(worker => Task.Run(() =>
        {
            var random = new Random(worker);
            var held = new Queue<XorbBuffer>();
            for (var step = 0; step < 2_000; step++)
            {
                if (held.Count > 0 && (held.Count > 6 || random.Next(2) == 0))
                {
                    var piece = held.Dequeue();
                    if (piece.Span.IndexOfAnyExcept((byte)worker) >= 0)
                        throw new InvalidOperationException($"worker {worker}: a piece was overwritten by another rent");
                    pool.Return(piece);
                }
                else
                {
                    var piece = pool.Rent(random.Next(1, 12 * Page));
                    piece.Span.Fill((byte)worker);
                    held.Enqueue(piece);
                }
            }
            while (held.Count > 0) pool.Return(held.Dequeue());
        })).ToArray();
        await Task.WhenAll(workers);

        Assert.Equal(0, pool.InUse);
        Assert.True(pool.Reserved <= 256 * Page);
    }
}
