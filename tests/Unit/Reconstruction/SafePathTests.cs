using System.IO;
using XetPs.Reconstruction;

namespace XetPs.Tests.Reconstruction;

public class SafePathTests
{
    private static readonly string Root = Path.Combine(Path.GetTempPath(), "xetps-safepath-root");

    [Theory]
    [InlineData("config.json")]
    [InlineData("weights/model-00001-of-00002.safetensors")]
    [InlineData("a/b/c/.gitattributes")]
    [InlineData("CONFIG/console.txt")]
    public void Ordinary_repo_paths_land_under_the_root(string repoPath)
    {
        var full = SafePath.Combine(Root, repoPath);

        Assert.StartsWith(Path.GetFullPath(Root) + Path.DirectorySeparatorChar, full);
        Assert.EndsWith(repoPath.Replace('/', Path.DirectorySeparatorChar), full);
    }

    [Theory]
    [InlineData("../escape.bin")]
    [InlineData("a/../../escape.bin")]
    [InlineData("a/./b")]
    [InlineData("/etc/passwd")]
    [InlineData("\\\\.\\PhysicalDrive0")]
    [InlineData("C:\\Windows\\win.ini")]
    [InlineData("c:relative")]
    [InlineData("a\\..\\..\\b")]
    [InlineData("CON")]
    [InlineData("nul.txt")]
    [InlineData("folder/COM1.bin")]
    [InlineData("lpt9")]
    [InlineData("trailing.")]
    [InlineData("trailing ")]
    [InlineData("a//b")]
    [InlineData("a/")]
    [InlineData("")]
    [InlineData("stream.bin:hidden")]
    [InlineData("bell\u0007")]
    [InlineData("//server/share/x.bin")]
    [InlineData("\\\\server\\share\\x.bin")]
    [InlineData("\\\\?\\C:\\x.bin")]
    [InlineData("D:")]
    [InlineData("conin$")]
    [InlineData("models/COM\u00B9.bin")]
    [InlineData("AUX .tar.gz")]
    [InlineData("folder./x.bin")]
    [InlineData("folder /x.bin")]
    public void Unsafe_repo_paths_are_refused_before_anything_is_written(string repoPath)
    {
        var error = Assert.Throws<UnsafeRepoPathException>(() => SafePath.Combine(Root, repoPath));

        Assert.Equal(repoPath, error.RepoPath);
        Assert.False(Directory.Exists(Root));
    }

    [Fact]
    public void A_segment_of_255_UTF8_bytes_is_accepted()
    {
        var name = new string('\u00E9', 127) + "a"; // 127 x 2 bytes + 1

        var full = SafePath.Combine(Root, "folder/" + name);

        Assert.Equal(name, Path.GetFileName(full));
    }

    [Fact]
    public void A_segment_longer_than_255_UTF8_bytes_is_refused_though_it_has_fewer_than_255_characters()
    {
        var name = new string('\u00E9', 128); // 128 characters, 256 bytes: ext4 says "File name too long"

        var error = Assert.Throws<UnsafeRepoPathException>(() => SafePath.Combine(Root, "folder/" + name));

        Assert.Contains("256 bytes", error.Message);
        Assert.Contains("255", error.Message);
    }
}
