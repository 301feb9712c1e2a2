using System;
using System.IO;
using XetPs.Reconstruction;

namespace XetPs.Tests.Reconstruction;

/// <summary>When a file record may be trusted without hashing the file: same size and time, and bytes known to be on
/// the device (synced) or written in this boot.</summary>
public sealed class LocalFileRecordTests : IDisposable
{
    private readonly string _file = Path.Combine(Path.GetTempPath(), "xetps-record-" + Guid.NewGuid().ToString("N"));

    public LocalFileRecordTests() => File.WriteAllText(_file, "some bytes");

    public void Dispose() => File.Delete(_file);

    private LocalFileRecord Recorded(bool synced, string? boot)
    {
        var text = LocalFileRecord.Format("xet:abc", new FileInfo(_file), synced, verified: true);
        var record = LocalFileRecord.Parse(text)!;
        return record with { Boot = boot };
    }

    [Fact]
    public void A_record_keeps_its_boot_and_whether_it_was_synced()
    {
        var record = LocalFileRecord.Parse(LocalFileRecord.Format("xet:abc", new FileInfo(_file), synced: true, verified: true))!;
        Assert.True(record.Synced);
        Assert.Equal(BootSession.Current, record.Boot);
        Assert.False(LocalFileRecord.Parse(LocalFileRecord.Format("xet:abc", new FileInfo(_file), synced: false, verified: true))!.Synced);
    }

    [Fact]
    public void An_unsynced_record_is_trusted_in_its_own_boot_only()
    {
        Assert.True(Recorded(synced: false, BootSession.Current).Describes(new FileInfo(_file), "xet:abc"));
        Assert.False(Recorded(synced: false, "id:another-boot").Describes(new FileInfo(_file), "xet:abc"));
        Assert.False(Recorded(synced: false, "t:0").Describes(new FileInfo(_file), "xet:abc"));
    }

    [Fact]
    public void A_synced_record_is_trusted_after_a_restart()
    {
        Assert.True(Recorded(synced: true, "id:another-boot").Describes(new FileInfo(_file), "xet:abc"));
    }

    [Fact]
    public void A_record_of_an_earlier_version_without_boot_or_sync_is_trusted_as_it_was()
    {
        var info = new FileInfo(_file);
        var legacy = LocalFileRecord.Parse($"identity=xet:abc\nsize={info.Length}\nmtime={info.LastWriteTimeUtc.Ticks}\n")!;
        Assert.True(legacy.Describes(info, "xet:abc"));
    }

    [Fact]
    public void A_record_says_whether_its_file_was_verified_and_an_earlier_versions_record_says_not()
    {
        // An earlier version wrote the same record for a -SkipVerification download: it cannot vouch for the bytes.
        var info = new FileInfo(_file);
        Assert.True(LocalFileRecord.Parse(LocalFileRecord.Format("xet:abc", info, synced: false, verified: true))!.Verified);
        Assert.False(LocalFileRecord.Parse(LocalFileRecord.Format("xet:abc", info, synced: false, verified: false))!.Verified);
        Assert.False(LocalFileRecord.Parse($"identity=xet:abc\nsize={info.Length}\nmtime={info.LastWriteTimeUtc.Ticks}\nboot={BootSession.Current}\nsynced=1\n")!.Verified);
    }

    [Fact]
    public void Any_change_of_size_or_time_or_identity_voids_even_a_synced_record()
    {
        var record = Recorded(synced: true, BootSession.Current);
        Assert.False(record.Describes(new FileInfo(_file), "xet:other"));
        File.SetLastWriteTimeUtc(_file, DateTime.UtcNow.AddMinutes(-5));
        Assert.False(record.Describes(new FileInfo(_file), "xet:abc"));
    }
}
