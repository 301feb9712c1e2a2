using System;
using System.IO;
using System.Linq;
using XetPs.Bench.Nightly;

namespace XetPs.Tests.Bench;

/// <summary>
/// Specifications of the nightly benchmark's settings and of its revisions' bytes: the defaults are issue 33's data set,
/// a mistyped flag is a usage error, and a revision is exactly the base with its window replaced (a wrong splice would
/// make the bench measure another edit than it names).
/// </summary>
public class NightlyOptionsTests
{
    private const long MiB = 1L << 20;

    [Fact]
    public void Defaults_are_a_512_MiB_base_with_16_MiB_appended_or_1_percent_changed()
    {
        var options = NightlyOptions.Parse([]);

        Assert.Equal(512 * MiB, options.SizeBytes);
        Assert.Equal(3, options.Reps);
        Assert.Equal(["xetps", "cmdlet", "hfjs", "curl"], options.Clients);
        var plan = options.Plan();
        Assert.Equal(new NightlyVariant("append", 512 * MiB, 0, 16 * MiB), plan[0]);
        // 1% of the base, centred.
        const long changed = 512 * MiB / 100;
        Assert.Equal(new NightlyVariant("middle", (512 * MiB - changed) / 2, changed, changed), plan[1]);
        Assert.Equal(512 * MiB, plan[1].RevisedSize(options.SizeBytes));
    }

    [Fact]
    public void Flags_set_the_sizes_and_choose_revisions_and_clients_in_their_own_order()
    {
        var options = NightlyOptions.Parse(["--size-mib", "64", "--change-mib", "1.5", "--variants", "middle", "--clients", "curl,xetps", "--reps", "5"]);

        // Clients run in the known order whatever order they are given in, so runs with different flags compare.
        Assert.Equal(["xetps", "curl"], options.Clients);
        Assert.Equal(5, options.Reps);
        Assert.Equal([new NightlyVariant("middle", (64 * MiB - 3 * MiB / 2) / 2, 3 * MiB / 2, 3 * MiB / 2)], options.Plan());
    }

    [Theory]
    [InlineData("--bogus")]
    [InlineData("--clients", "wget")]
    [InlineData("--variants", "")]
    [InlineData("--size-mib", "64", "--change-mib", "64")]
    [InlineData("--append-mib", "0")]
    [InlineData("--reps", "0")]
    [InlineData("--size-mib")]
    public void Unknown_flags_and_impossible_values_are_usage_errors(params string[] args)
    {
        Assert.ThrowsAny<ArgumentException>(() => NightlyOptions.Parse(args));
    }

    private static byte[] Bytes(int length, byte first) => Enumerable.Range(0, length).Select(i => (byte)(first + i)).ToArray();

    /// <summary>Reads in 7-byte steps, so reads straddle the edit's borders.</summary>
    private static byte[] ReadAll(Stream stream)
    {
        using var result = new MemoryStream();
        var buffer = new byte[7];
        int n;
        while ((n = stream.Read(buffer, 0, buffer.Length)) > 0) result.Write(buffer, 0, n);
        return result.ToArray();
    }

    [Fact]
    public void An_appended_revision_is_the_base_then_the_new_bytes()
    {
        var baseBytes = Bytes(40, 0);
        var inserted = Bytes(12, 100);

        var revised = ReadAll(NightlyVariant.Append(40, 12).Open(new MemoryStream(baseBytes), new MemoryStream(inserted)));

        Assert.Equal(baseBytes.Concat(inserted), revised);
    }

    [Fact]
    public void A_middle_revision_replaces_the_centre_and_keeps_the_size()
    {
        var baseBytes = Bytes(50, 0);
        var inserted = Bytes(10, 100);
        var variant = NightlyVariant.Middle(50, 10);

        var revised = ReadAll(variant.Open(new MemoryStream(baseBytes), new MemoryStream(inserted)));

        Assert.Equal(20, variant.Offset);
        Assert.Equal(baseBytes[..20].Concat(inserted).Concat(baseBytes[30..]), revised);
    }

    [Fact]
    public void A_base_shorter_than_the_edit_is_an_error_not_a_short_file()
    {
        var variant = new NightlyVariant("middle", 20, 10, 10);

        Assert.Throws<EndOfStreamException>(() => ReadAll(variant.Open(new MemoryStream(Bytes(15, 0)), new MemoryStream(Bytes(10, 100)))));
        Assert.Throws<EndOfStreamException>(() => ReadAll(variant.Open(new MemoryStream(Bytes(25, 0)), new MemoryStream(Bytes(10, 100)))));
    }
}
