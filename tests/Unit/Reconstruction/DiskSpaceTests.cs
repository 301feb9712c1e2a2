using System.IO;
using XetPs.Reconstruction;

namespace XetPs.Tests.Reconstruction;

/// <summary>The free-space check made before a download starts.</summary>
public sealed class DiskSpaceTests : System.IDisposable
{
    private readonly string _root = Path.Combine(Path.GetTempPath(), "xetps-diskspace-" + System.Guid.NewGuid().ToString("N"));

    public DiskSpaceTests() => Directory.CreateDirectory(_root);

    public void Dispose() => Directory.Delete(_root, recursive: true);

    [Fact]
    public void The_free_space_of_a_folder_not_created_yet_is_read_from_its_nearest_existing_parent()
    {
        var free = DiskSpace.AvailableBytes(Path.Combine(_root, "not", "yet", "there"));

        Assert.NotNull(free);
        Assert.Equal(DiskSpace.AvailableBytes(_root).HasValue, free.HasValue);
        Assert.True(free > 0);
    }

    [Fact]
    public void A_file_that_fits_passes_and_one_that_cannot_fails_naming_what_it_needs_and_what_is_free()
    {
        var destination = Path.Combine(_root, "model.bin");

        DiskSpace.EnsureRoomFor(destination, "model.bin", 1 << 20);
        var error = Assert.Throws<XetInsufficientDiskSpaceException>(() => DiskSpace.EnsureRoomFor(destination, "model.bin", 1L << 52));

        Assert.Equal(destination, error.DestinationPath);
        Assert.Equal(1L << 52, error.BytesNeeded);
        Assert.Contains("4.0 PiB", error.Message);
        Assert.Contains("Nothing was written", error.Message);
    }

    [Fact]
    public void The_bytes_an_earlier_run_left_to_resume_from_are_not_needed_again()
    {
        var destination = Path.Combine(_root, "model.bin");
        var partial = ResumeJournal.PartialPathFor(destination, "model.bin");
        Directory.CreateDirectory(Path.GetDirectoryName(partial)!);
        File.WriteAllBytes(partial, new byte[12_345]);

        var error = Assert.Throws<XetInsufficientDiskSpaceException>(() => DiskSpace.EnsureRoomFor(destination, "model.bin", 1L << 52));

        Assert.Equal((1L << 52) - 12_345, error.BytesNeeded);
    }

    [Fact]
    public void A_file_wholly_present_as_a_partial_needs_no_room_at_all()
    {
        var destination = Path.Combine(_root, "model.bin");
        var partial = ResumeJournal.PartialPathFor(destination, "model.bin");
        Directory.CreateDirectory(Path.GetDirectoryName(partial)!);
        File.WriteAllBytes(partial, new byte[4096]);

        DiskSpace.EnsureRoomFor(destination, "model.bin", 4096);
    }
}
