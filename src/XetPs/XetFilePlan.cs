using System;
using XetPs.Hub;
using XetPs.Reconstruction;

namespace XetPs;

/// <summary>Where a file stands before a download (Test-XetFile's State column).</summary>
public enum XetFileState
{
    /// <summary>There and known to be the repo file: nothing to download.</summary>
    UpToDate,

    /// <summary>Nothing of it is there.</summary>
    Missing,

    /// <summary>A different file is there (another version, or changed since): it would be replaced.</summary>
    Changed,

    /// <summary>An interrupted download left part of it: a download resumes after BytesPresent.</summary>
    Partial,

    /// <summary>A file of the right size is there, not yet checked: a download hashes it, and transfers it only if it differs.</summary>
    Unverified,
}

/// <summary>
/// What Save-XetFile would do with one file, as Test-XetFile writes it: the state against the Hub's revision and the
/// bytes a download would need. Binds to Save-XetFile by property name like <see cref="XetFileEntry"/> (Repo, RepoType,
/// Revision, Path, Endpoint). Invariant, as there: only strings, numbers and this module's own types.
/// </summary>
public sealed class XetFilePlan
{
    internal XetFilePlan(RepoId repo, string? revision, FilePlan plan, string endpoint)
    {
        Repo = repo.Name;
        RepoType = XetFileEntry.ToModule(repo.Type);
        Revision = plan.Entry?.Revision ?? revision ?? "main";
        Path = plan.Path;
        State = plan.State switch
        {
            FileState.UpToDate => XetFileState.UpToDate,
            FileState.Changed => XetFileState.Changed,
            FileState.Partial => XetFileState.Partial,
            FileState.Unverified => XetFileState.Unverified,
            _ => XetFileState.Missing,
        };
        LocalPath = plan.LocalPath;
        Size = plan.Size;
        BytesPresent = plan.BytesPresent;
        BytesNeeded = plan.BytesNeeded;
        BytesReusable = plan.BytesReusable;
        Endpoint = endpoint;
    }

    public string Repo { get; }

    public XetRepoType RepoType { get; }

    /// <summary>The commit the plan was made against (the revision asked for, offline when nothing resolved it).</summary>
    public string Revision { get; }

    public string Path { get; }

    public XetFileState State { get; }

    /// <summary>Where the file is or would be (in the Hugging Face cache, its snapshot path).</summary>
    public string LocalPath { get; }

    /// <summary>The file's size (null offline when nothing on disk tells it).</summary>
    public long? Size { get; }

    /// <summary>Bytes an interrupted download left that a resume keeps.</summary>
    public long BytesPresent { get; }

    /// <summary>At most the bytes a download would write: 0 when up to date, the size less what a resume keeps otherwise.</summary>
    public long? BytesNeeded { get; }

    /// <summary>Bytes a download would read from the copy an earlier download left (an older version's shared chunks)
    /// rather than fetch; counted out of <see cref="BytesNeeded"/>.</summary>
    public long BytesReusable { get; }

    public string Endpoint { get; }

    public override string ToString() => Path;

    /// <summary>The plan in a few words, for -WhatIf lines and messages: "missing, 1.20 MB to download".</summary>
    internal static string Describe(FilePlan plan) => plan.State switch
    {
        FileState.UpToDate => "up to date, nothing to download",
        FileState.Partial => $"partial, {ByteSize.Format(plan.BytesPresent)} of {SizeText(plan.Size)} there, {SizeText(plan.BytesNeeded)} to download",
        FileState.Unverified => $"there unverified: hashed first, up to {SizeText(plan.BytesNeeded)} to download if it differs",
        FileState.Changed => $"changed, {SizeText(plan.BytesNeeded)} to download{Reused(plan)}",
        _ => plan.BytesNeeded is null ? "missing" : $"missing, {SizeText(plan.BytesNeeded)} to download{Reused(plan)}",
    };

    private static string SizeText(long? bytes) => bytes is { } b ? ByteSize.Format(b) : "unknown size";

    private static string Reused(FilePlan plan) =>
        plan.BytesReusable > 0 ? $", {ByteSize.Format(plan.BytesReusable)} reused from the earlier copy" : string.Empty;
}
