using System.IO;
using XetPs.Reconstruction;

namespace XetPs.Tests.Reconstruction;

/// <summary>The room a download claims on its destination's volume before it starts.</summary>
public sealed class DiskSpaceLedgerTests : System.IDisposable
{
    private readonly string _root = Path.Combine(Path.GetTempPath(), "xetps-diskspace-" + System.Guid.NewGuid().ToString("N"));
    private readonly DiskSpaceLedger _ledger = new();

    public DiskSpaceLedgerTests() => Directory.CreateDirectory(_root);

    public void Dispose() => Directory.Delete(_root, recursive: true);

    private string Destination(string name) => Path.Combine(_root, name);

    private long Free => DiskSpaceLedger.AvailableBytes(_root)!.Value;

    [Fact]
    public void The_free_space_of_a_folder_not_created_yet_is_read_from_its_nearest_existing_parent()
    {
        var free = DiskSpaceLedger.AvailableBytes(Path.Combine(_root, "not", "yet", "there"));

        Assert.NotNull(free);
        Assert.True(free > 0);
    }

    [Fact]
    public void A_file_that_fits_passes_and_one_that_cannot_fails_naming_what_it_needs_and_what_is_free()
    {
        using (_ledger.Reserve(Destination("small.bin"), "small.bin", 1 << 20)) { }
        var error = Assert.Throws<XetInsufficientDiskSpaceException>(() => _ledger.Reserve(Destination("model.bin"), "model.bin", 1L << 52));

        Assert.Equal(Destination("model.bin"), error.DestinationPath);
        Assert.Equal(1L << 52, error.BytesNeeded);
        Assert.Equal(0, error.BytesPromised);
        Assert.Contains("4.0 PiB", error.Message);
        Assert.Contains("Nothing was written", error.Message);
    }

    [Fact]
    public void The_bytes_an_earlier_run_left_to_resume_from_are_not_needed_again()
    {
        var partial = ResumeJournal.PartialPathFor(Destination("model.bin"), "model.bin");
        Directory.CreateDirectory(Path.GetDirectoryName(partial)!);
        File.WriteAllBytes(partial, new byte[12_345]);

        var error = Assert.Throws<XetInsufficientDiskSpaceException>(() => _ledger.Reserve(Destination("model.bin"), "model.bin", 1L << 52));

        Assert.Equal((1L << 52) - 12_345, error.BytesNeeded);
    }

    [Fact]
    public void A_file_wholly_present_as_a_partial_needs_no_room_at_all()
    {
        var partial = ResumeJournal.PartialPathFor(Destination("model.bin"), "model.bin");
        Directory.CreateDirectory(Path.GetDirectoryName(partial)!);
        File.WriteAllBytes(partial, new byte[4096]);

        using var claim = _ledger.Reserve(Destination("model.bin"), "model.bin", 4096);

        Assert.Equal(0, claim.Outstanding);
    }

    [Fact]
    public void Two_files_that_fit_one_at_a_time_but_not_together_the_second_is_refused_while_the_first_is_under_way()
    {
        // Each takes three fifths of the free space: either fits alone, both do not.
        var share = Free / 5 * 3;
        var first = _ledger.Reserve(Destination("a.bin"), "a.bin", share);

        var error = Assert.Throws<XetInsufficientDiskSpaceException>(() => _ledger.Reserve(Destination("b.bin"), "b.bin", share));
        Assert.Equal(share, error.BytesPromised);
        Assert.Contains("still to be written by files downloading at the same time", error.Message);

        // As the first writes, what it still needs shrinks (its written bytes leave the free space on their own).
        first.Track(null).Report(new FileProgress("a.bin", share / 2, share));
        Assert.Equal(share - share / 2, _ledger.Outstanding(Destination("b.bin"), "b.bin"));

        // When it ends, however it ends, its claim is gone and the second fits.
        first.Dispose();
        using var second = _ledger.Reserve(Destination("b.bin"), "b.bin", share);
        Assert.Equal(share, second.Outstanding);
    }

    [Fact]
    public void A_download_whose_partial_file_already_holds_its_blocks_is_not_counted_twice()
    {
        var share = Free / 5 * 3;
        using var first = _ledger.Reserve(Destination("a.bin"), "a.bin", share);
        // The first download's writer gives its partial file the whole size before writing (a sparse file stands in
        // for it here: only the length is read).
        var partialPath = ResumeJournal.PartialPathFor(Destination("a.bin"), "a.bin");
        Directory.CreateDirectory(Path.GetDirectoryName(partialPath)!);
        using (var partial = File.Create(partialPath))
            partial.SetLength(share);

        using var second = _ledger.Reserve(Destination("b.bin"), "b.bin", Free / 5);

        Assert.Equal(0, first.Outstanding);
        Assert.Equal(Free / 5, second.Outstanding);
    }

    [Fact]
    public void Claims_in_different_destination_folders_do_not_count_against_each_other()
    {
        var share = Free / 5 * 3;
        var elsewhere = Path.Combine(_root, "other-root");
        Directory.CreateDirectory(elsewhere);
        using var first = _ledger.Reserve(Destination("a.bin"), "a.bin", share);

        using var second = _ledger.Reserve(Path.Combine(elsewhere, "b.bin"), "b.bin", share);

        Assert.Equal(share, second.Outstanding);
    }
}
