using System;
using XetPs.Hub;

namespace XetPs.Tests.Hub;

public class RepoIdTests
{
    [Theory]
    [InlineData("org/name", RepoType.Model, "models/org/name", "org/name")]
    [InlineData("datasets/org/name", RepoType.Dataset, "datasets/org/name", "datasets/org/name")]
    [InlineData("spaces/org/name", RepoType.Space, "spaces/org/name", "spaces/org/name")]
    [InlineData("models/org/name", RepoType.Model, "models/org/name", "org/name")]
    [InlineData("gpt2", RepoType.Model, "models/gpt2", "gpt2")]
    [InlineData("datasets/squad", RepoType.Dataset, "datasets/squad", "datasets/squad")]
    [InlineData("models/gpt2", RepoType.Model, "models/gpt2", "gpt2")]
    public void Parse_reads_the_kind_from_the_prefix(string text, RepoType type, string apiPath, string resolvePrefix)
    {
        var repo = RepoId.Parse(text);
        Assert.Equal(type, repo.Type);
        Assert.Equal(apiPath, repo.ApiPath);
        Assert.Equal(resolvePrefix, repo.ResolvePrefix);
    }

    [Fact]
    public void Parse_takes_the_kind_given_when_there_is_no_prefix()
    {
        Assert.Equal(RepoType.Dataset, RepoId.Parse("org/name", RepoType.Dataset).Type);
    }

    [Fact]
    public void A_legacy_name_without_a_namespace_takes_the_kind_given()
    {
        var repo = RepoId.Parse("squad", RepoType.Dataset);
        Assert.Equal("datasets/squad", repo.ApiPath);
        Assert.Equal("squad", repo.Name);
    }

    [Fact]
    public void Parse_refuses_a_prefix_that_contradicts_the_kind_given()
    {
        var ex = Assert.Throws<ArgumentException>(() => RepoId.Parse("datasets/org/name", RepoType.Model));
        Assert.Contains("dataset", ex.Message);
    }

    [Theory]
    [InlineData("")]
    [InlineData("datasets")]
    [InlineData("datasets/")]
    [InlineData("a/b/c/d")]
    [InlineData("datasets/a/b/c")]
    [InlineData("..")]
    [InlineData("org/..")]
    [InlineData("../name")]
    [InlineData("org/na me")]
    [InlineData("org/na%2Fme")]
    [InlineData("things/org/name")]
    public void Parse_refuses_what_is_not_a_repository_name(string text)
    {
        Assert.Throws<ArgumentException>(() => RepoId.Parse(text));
    }
}
