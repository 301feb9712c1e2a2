using System;
using System.IO;
using XetPs.Reconstruction;

namespace XetPs.Tests.Reconstruction;

public class HugePagesTests
{
    [Fact]
    public void A_pinned_slab_is_advised_whole_huge_pages_and_stays_an_ordinary_array()
    {
        var slab = GC.AllocateUninitializedArray<byte>(9 << 20, pinned: true);

        var advised = HugePages.Advise(slab);

        // The kernel refuses advice on a range that is not page-aligned (EINVAL), so true also means the range was
        // computed right. Kernels built without transparent huge pages have no such directory and refuse it.
        Assert.Equal(OperatingSystem.IsLinux() && Directory.Exists("/sys/kernel/mm/transparent_hugepage"), advised);
        slab.AsSpan().Fill(0x5a);
        Assert.True(slab.AsSpan().IndexOfAnyExcept((byte)0x5a) < 0);
    }

    [Fact]
    public void An_array_smaller_than_two_huge_pages_gets_no_advice()
    {
        Assert.False(HugePages.Advise(GC.AllocateUninitializedArray<byte>(3 << 20, pinned: true)));
    }
}
