using System;
using System.Collections.Generic;
using System.Linq;
using System.Management.Automation;
using System.Runtime.ExceptionServices;
using System.Threading;
using XetPs.Hub;
using XetPs.Reconstruction;

namespace XetPs.Commands;

/// <summary>
/// Save-XetFile's -Path wildcards, expanded against the repository's file listing: a pattern is matched against whole
/// repo paths, case-insensitively ("*.bin" also finds "data/train.bin", as huggingface_hub's allow_patterns do), except
/// that a path that is exactly a file's is that file alone, even when it holds wildcard characters ("model[1].bin").
/// Invariant: one listing per session, repository and revision for the life of the command, however many patterns
/// and input objects ask for it; a listing that failed fails every pattern that needs it with the same exception,
/// without asking again. The listing runs on the pipeline thread (the engine's pages arrive on the thread pool).
/// </summary>
internal sealed class RepoPathPattern
{
    private const WildcardOptions Options = WildcardOptions.IgnoreCase | WildcardOptions.CultureInvariant;
    private readonly Dictionary<(XetSession, RepoId, string), Listing> _listings = new();

    /// <summary>True when <paramref name="path"/> is a pattern to expand, not a path to take as written.</summary>
    public static bool IsPattern(string path) => WildcardPattern.ContainsWildcardCharacters(path);

    /// <summary>
    /// The files of <paramref name="repo"/> at <paramref name="revision"/> that <paramref name="pattern"/> matches, in
    /// the listing's order; empty when none does. Throws the listing's own exception when the listing failed.
    /// </summary>
    public IReadOnlyList<RepoEntry> Expand(XetSession session, RepoId repo, string? revision, string pattern, CancellationToken cancellationToken)
    {
        var key = (session, repo, revision ?? string.Empty);
        if (!_listings.TryGetValue(key, out var listing))
        {
            listing = Listing.Read(session, repo, revision, cancellationToken);
            _listings[key] = listing;
        }
        listing.Failure?.Throw();
        var text = pattern.Replace('\\', '/').TrimStart('/');
        var wildcard = new WildcardPattern(text, Options);
        var exact = listing.Entries.Where(e => string.Equals(e.Path, text, StringComparison.Ordinal)).ToList();
        return exact.Count > 0 ? exact : listing.Entries.Where(e => wildcard.IsMatch(e.Path)).ToList();
    }

    private sealed class Listing
    {
        private Listing(IReadOnlyList<RepoEntry> entries, ExceptionDispatchInfo? failure)
        {
            Entries = entries;
            Failure = failure;
        }

        public IReadOnlyList<RepoEntry> Entries { get; }

        public ExceptionDispatchInfo? Failure { get; }

        public static Listing Read(XetSession session, RepoId repo, string? revision, CancellationToken cancellationToken)
        {
            var entries = new List<RepoEntry>();
            try
            {
                var pages = session.ListFilesAsync(repo, revision, path: null, recursive: true, cancellationToken).GetAsyncEnumerator(cancellationToken);
                try
                {
                    while (pages.MoveNextAsync().AsTask().GetAwaiter().GetResult()) entries.Add(pages.Current);
                }
                finally
                {
                    // Bounded: releasing a half-read page must not hold the pipeline after a stop.
                    BoundedWait.For(pages.DisposeAsync(), TimeSpan.FromSeconds(2));
                }
            }
            catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
            {
                throw; // a stop, not a listing that failed: nothing to remember
            }
            catch (Exception e)
            {
                return new Listing(Array.Empty<RepoEntry>(), ExceptionDispatchInfo.Capture(e));
            }
            RepoPathCompleter.Remember(repo, entries.Select(e => e.Path));
            return new Listing(entries, null);
        }
    }
}
