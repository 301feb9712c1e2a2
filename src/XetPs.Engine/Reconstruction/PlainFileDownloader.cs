using System;
using System.IO;
using System.Security.Cryptography;
using System.Threading;
using System.Threading.Tasks;
using Microsoft.Extensions.Logging;
using XetPs.Cas;
using XetPs.Hub;

namespace XetPs.Reconstruction;

/// <summary>
/// Downloads a file that is not stored in Xet (plain git or LFS) over HTTP through the Hub client, with the same
/// guarantees as Xet files: bytes go to the partial file under the destination root's .cache/xetps folder, a body that breaks off resumes
/// from what was written (Range request; also across runs, while the partial's marker names the same content), the
/// result is checked against the LFS sha256 (or, for a plain git file, its git blob id), and only then replaces the
/// destination.
/// </summary>
internal static class PlainFileDownloader
{
    public static async Task<FileReconstructor.Outcome> RunAsync(SessionResources session, HubClient hub, RepoEntry entry,
        string destinationPath, WorkFiles work, IProgress<FileProgress>? progress, CancellationToken cancellationToken)
    {
        var options = session.Options;
        var directory = Path.GetDirectoryName(destinationPath);
        if (!string.IsNullOrEmpty(directory)) Directory.CreateDirectory(directory);
        var partialPath = work.Partial;
        var markerPath = work.Journal;
        Directory.CreateDirectory(Path.GetDirectoryName(partialPath)!);
        Directory.CreateDirectory(Path.GetDirectoryName(markerPath)!);
        var marker = MarkerFor(entry);

        // Without an LFS sha256 or a git blob id nothing can check the bytes: say so, and never build on a partial file
        // left by an earlier run, whose bytes nothing could check either.
        var checkable = entry.Sha256 is not null || entry.GitOid is { Length: 40 };
        if (!checkable)
            session.Logger?.LogWarning("{Path}: the Hub gives neither an LFS sha256 nor a git blob id for it, so its bytes cannot be verified", entry.Path);
        long offset = 0;
        if (checkable && File.Exists(partialPath) && File.Exists(markerPath) && SafeRead(markerPath) == marker)
            offset = Math.Min(new FileInfo(partialPath).Length, entry.Size);
        var resumed = offset > 0;
        // The marker says the partial file holds bytes of this very file. A large file writes it before its first
        // byte, so even a killed process leaves a partial the next run continues; a small one (under the journal's
        // commit interval, like a Xet file's journal) only when its download stops early, so the common case, a
        // small file that completes, neither creates nor deletes it.
        var markEarly = entry.Size >= options.JournalCommitInterval;
        if (markEarly) File.WriteAllText(markerPath, marker);
        long received = 0;
        var failures = 0;

        try
        {
            using (var file = new FileStream(partialPath, FileMode.OpenOrCreate, FileAccess.ReadWrite, FileShare.Read, 1 << 16, FileOptions.Asynchronous))
            {
                file.SetLength(offset);
                file.Position = offset;
                var buffer = new byte[1 << 16];
                while (offset < entry.Size || (entry.Size == 0 && file.Length == 0 && received == 0 && failures == 0))
                {
                    try
                    {
                        using var download = await hub.OpenDownloadAsync(entry.Repo, entry.Revision, entry.Path, offset, cancellationToken).ConfigureAwait(false);
                        if (download.Offset != offset)
                        {
                            // The server ignored the Range: start over from its first byte.
                            offset = download.Offset;
                            file.SetLength(offset);
                            file.Position = offset;
                        }
                        int n;
                        while ((n = await download.Body.ReadAsync(buffer, 0, buffer.Length, cancellationToken).ConfigureAwait(false)) > 0)
                        {
                            if (offset + n > entry.Size)
                                throw new XetProtocolException($"'{entry.Path}' sent more than its {entry.Size} bytes.");
                            await file.WriteAsync(buffer, 0, n, cancellationToken).ConfigureAwait(false);
                            offset += n;
                            received += n;
                            session.Activity.Received(n);
                            progress?.Report(new FileProgress(entry.Path, offset, entry.Size));
                        }
                        if (entry.Size == 0) break;
                        if (offset < entry.Size) throw new IOException($"'{entry.Path}' ended after {offset} of {entry.Size} bytes (truncated response).");
                    }
                    catch (Exception ex) when (XetHttpTransport.IsTransient(ex) && !cancellationToken.IsCancellationRequested && failures < options.MaxRetries)
                    {
                        failures++;
                        session.Logger?.LogDebug("Download of {Path} broke off at byte {Offset} ({Error}); resuming", entry.Path, offset, ex.Message);
                        await Task.Delay(Backoff(options, failures), cancellationToken).ConfigureAwait(false);
                    }
                }
                await file.FlushAsync(cancellationToken).ConfigureAwait(false);
            }
        }
        catch when (!markEarly && offset > 0)
        {
            // Stopped early (error or cancellation): what was written is kept for the next run.
            try
            {
                File.WriteAllText(markerPath, marker);
            }
            catch (Exception markerError) when (markerError is IOException or UnauthorizedAccessException)
            {
                // Without its marker the partial is only downloaded again; the download's own error is the one to report.
            }
            throw;
        }

        if (options.Verify)
        {
            // LFS files carry their sha256; plain git files (no sha256) their git blob id, which hashes the content.
            string? expected = null, actual = null;
            if (entry.Sha256 is { } sha)
            {
                expected = sha;
                actual = LocalFileHasher.Sha256Hex(partialPath, cancellationToken);
            }
            else if (entry.GitOid is { Length: 40 } oid)
            {
                expected = oid;
                actual = LocalFileHasher.GitBlobSha1Hex(partialPath, cancellationToken);
            }
            if (expected is not null && !string.Equals(actual, expected, StringComparison.OrdinalIgnoreCase))
            {
                work.Delete();
                throw new XetHashMismatchException(entry.Path, expected.ToLowerInvariant(), actual!);
            }
        }
        FileReconstructor.MoveIntoPlace(partialPath, destinationPath);
        File.Delete(markerPath);
        progress?.Report(new FileProgress(entry.Path, entry.Size, entry.Size));
        return new FileReconstructor.Outcome(received, resumed);
    }

    /// <summary>The text of the resume marker that says a partial file holds bytes of <paramref name="entry"/>'s content.</summary>
    internal static string MarkerFor(RepoEntry entry) => $"plain {LocalFileRecord.IdentityOf(entry) ?? "size:" + entry.Size} {entry.Size}";

    private static TimeSpan Backoff(XetSessionOptions options, int failures)
    {
        var ms = options.RetryBaseDelay.TotalMilliseconds * Math.Pow(2, failures - 1);
        return TimeSpan.FromMilliseconds(Math.Min(ms, options.MaxRetryDelay.TotalMilliseconds));
    }

    private static string? SafeRead(string path)
    {
        try
        {
            return File.ReadAllText(path);
        }
        catch (IOException)
        {
            return null;
        }
    }
}
