namespace XetPs.Hub;

/// <summary>The three kinds of Hub repository; each has its own URL prefix (§1.1, §1.3).</summary>
public enum RepoType
{
    Model,
    Dataset,
    Space,
}
