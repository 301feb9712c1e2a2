using System;
using System.IO;
using System.Security.Cryptography;
using System.Threading;
using System.Threading.Tasks;
using Microsoft.Extensions.Logging;
using XetPs.Hub;

namespace XetPs.Reconstruction;

/// <summary>
/// Downloads a file that is not stored in Xet (plain git or LFS) over HTTP through the Hub client, with the same
/// guarantees as Xet files: bytes go to the partial file under the destination root's .cache/xetps folder, a body that breaks off resumes
/// from what was written (Range request; also across runs, while the partial's marker names the same content), the
/// result is checked against the LFS sha256 (or, for a plain git file, its git blob id), and only then replaces the
/// destination. A <see cref="StallWatchdog"/> watches the transfer as it does a Xet file's; the body's silence and
/// slowness are the transport's read timeout and low-speed limit to cut.
/// </summary>
internal sealed class PlainFileDownloader
{
    private readonly SessionResources _session;
    private readonly HubClient _hub;
    private readonly RepoEntry _entry;
    private readonly string _destinationPath;
    private readonly IProgress<FileProgress>? _progress;
    private readonly WorkFiles _work;
    private readonly string _partialPath;
    private readonly string _markerPath;
    private readonly string _marker;
    private readonly bool _markEarly;
    private long _offset; // bytes in the partial file; the watchdog reads it from its own task
    private long _received;
    private int _failures;

    private PlainFileDownloader(SessionResources session, HubClient hub, RepoEntry entry, string destinationPath, WorkFiles work,
        IProgress<FileProgress>? progress)
    {
        _work = work;
        _session = session;
        _hub = hub;
        _entry = entry;
        _destinationPath = destinationPath;
        _progress = progress;
        _partialPath = work.Partial;
        _markerPath = work.Journal;
        _marker = MarkerFor(entry);
        // The marker says the partial file holds bytes of this very file. A large file writes it before its first
        // byte, so even a killed process leaves a partial the next run continues; a small one (under the journal's
        // commit interval, like a Xet file's journal) only when its download stops early, so the common case, a
        // small file that completes, neither creates nor deletes it.
        _markEarly = entry.Size >= session.Options.JournalCommitInterval;
    }

    public static Task<FileReconstructor.Outcome> RunAsync(SessionResources session, HubClient hub, RepoEntry entry,
        string destinationPath, WorkFiles work, IProgress<FileProgress>? progress, CancellationToken cancellationToken) =>
        new PlainFileDownloader(session, hub, entry, destinationPath, work, progress).RunAsync(cancellationToken);

    /// <summary>The text of the resume marker that says a partial file holds bytes of <paramref name="entry"/>'s content.</summary>
    internal static string MarkerFor(RepoEntry entry) => $"plain {LocalFileRecord.IdentityOf(entry) ?? "size:" + entry.Size} {entry.Size}";

    /// <summary>Prepare the partial file, transfer under the watchdog, verify, then move into place.</summary>
    private async Task<FileReconstructor.Outcome> RunAsync(CancellationToken cancellationToken)
    {
        var resumed = Prepare();
        await TransferUnderWatchdogAsync(cancellationToken).ConfigureAwait(false);
        Verify(cancellationToken);
        FileReconstructor.MoveIntoPlace(_partialPath, _destinationPath);
        File.Delete(_markerPath);
        _progress?.Report(new FileProgress(_entry.Path, _entry.Size, _entry.Size));
        return new FileReconstructor.Outcome(_received, resumed);
    }

    /// <summary>Makes the folders, and finds where an earlier run's partial file lets this one start; true when it resumes.</summary>
    private bool Prepare()
    {
        var directory = Path.GetDirectoryName(_destinationPath);
        if (!string.IsNullOrEmpty(directory)) Directory.CreateDirectory(directory);
        _work.Prepare();
        // Without an LFS sha256 or a git blob id nothing can check the bytes: say so, and never build on a partial file
        // left by an earlier run, whose bytes nothing could check either.
        var checkable = _entry.Sha256 is not null || _entry.GitOid is { Length: 40 };
        if (!checkable)
            _session.Logger?.LogWarning("{Path}: the Hub gives neither an LFS sha256 nor a git blob id for it, so its bytes cannot be verified", _entry.Path);
        if (checkable && File.Exists(_partialPath) && File.Exists(_markerPath) && SafeRead(_markerPath) == _marker)
            _offset = Math.Min(new FileInfo(_partialPath).Length, _entry.Size);
        if (_markEarly) WorkFolder.WriteAllText(_markerPath, _marker);
        return _offset > 0;
    }

    /// <summary>
    /// Runs the transfer under a <see cref="StallWatchdog"/>; whatever ends it early (error or cancellation) leaves the
    /// partial file and its marker for the next run, and the first error is the one thrown.
    /// </summary>
    private async Task TransferUnderWatchdogAsync(CancellationToken cancellationToken)
    {
        using var run = new RunState(cancellationToken, _session.SessionToken);
        using var stopWatchdog = CancellationTokenSource.CreateLinkedTokenSource(run.Token);
        var watchdog = StallWatchdog.RunAsync(_session, run, _entry.Path,
            () => $"{Volatile.Read(ref _offset)} of {_entry.Size} bytes written", stopWatchdog.Token);
        try
        {
            await TransferAsync(run.Token).ConfigureAwait(false);
        }
        catch (Exception ex)
        {
            run.Fail(ex);
        }
        finally
        {
            stopWatchdog.Cancel();
            await watchdog.ConfigureAwait(false);
        }
        try
        {
            run.ThrowIfFailed();
        }
        catch when (!_markEarly && _offset > 0)
        {
            // Stopped early (error or cancellation): what was written is kept for the next run.
            try
            {
                WorkFolder.WriteAllText(_markerPath, _marker);
            }
            catch (Exception markerError) when (markerError is IOException or UnauthorizedAccessException)
            {
                // Without its marker the partial is only downloaded again; the download's own error is the one to report.
            }
            throw;
        }
    }

    /// <summary>Reads the body into the partial file from <see cref="_offset"/> on, resuming from what was written when it breaks off.</summary>
    private async Task TransferAsync(CancellationToken token)
    {
        // The body is read outside the transport's operation (which ends with the headers): this one lists it among
        // the requests in flight, and its failures as what the stall watchdog's clock may wait for.
        using var observed = _session.Activity.Started("body of the download of " + _entry.Path);
        using var file = WorkFolder.OpenStream(_partialPath, FileMode.OpenOrCreate, FileAccess.ReadWrite, FileShare.Read, 1 << 16, FileOptions.Asynchronous);
        file.SetLength(_offset);
        file.Position = _offset;
        var buffer = new byte[1 << 16];
        while (_offset < _entry.Size || (_entry.Size == 0 && file.Length == 0 && _received == 0 && _failures == 0))
        {
            observed.AttemptStarted();
            // Opening is retried inside (the transport's policy); what fails here has used its retries.
            var download = await _hub.OpenDownloadAsync(_entry.Repo, _entry.Revision, _entry.Path, _offset, token).ConfigureAwait(false);
            try
            {
                using var body = download;
                await CopyBodyAsync(download, file, buffer, token).ConfigureAwait(false);
                if (_entry.Size == 0) break;
                if (_offset < _entry.Size) throw new IOException($"'{_entry.Path}' ended after {_offset} of {_entry.Size} bytes (truncated response).");
            }
            catch (Exception ex) when (XetHttpTransport.IsTransient(ex) && !token.IsCancellationRequested && _failures < _session.Options.MaxRetries)
            {
                // The body broke off: resume from what was written, after a backoff (the stall watchdog's clock stands
                // still meanwhile unless the server went silent; see StallWatchdog).
                observed.AttemptFailed(ex);
                _failures++;
                _session.Logger?.LogDebug("Download of {Path} broke off at byte {Offset} ({Error}); resuming", _entry.Path, _offset, ex.Message);
                await Task.Delay(Backoff(_session.Options, _failures), token).ConfigureAwait(false);
            }
        }
        await file.FlushAsync(token).ConfigureAwait(false);
    }

    private async Task CopyBodyAsync(PlainFileDownload download, FileStream file, byte[] buffer, CancellationToken token)
    {
        if (download.Offset != _offset)
        {
            // The server ignored the Range: start over from its first byte.
            Volatile.Write(ref _offset, download.Offset);
            file.SetLength(_offset);
            file.Position = _offset;
        }
        int n;
        while ((n = await download.Body.ReadAsync(buffer, 0, buffer.Length, token).ConfigureAwait(false)) > 0)
        {
            if (_offset + n > _entry.Size)
                throw new XetProtocolException($"'{_entry.Path}' sent more than its {_entry.Size} bytes.");
            await file.WriteAsync(buffer, 0, n, token).ConfigureAwait(false);
            Volatile.Write(ref _offset, _offset + n);
            _received += n;
            _progress?.Report(new FileProgress(_entry.Path, _offset, _entry.Size));
        }
    }

    /// <summary>Checks the partial file against the LFS sha256 or, for a plain git file, its git blob id (when verifying).</summary>
    private void Verify(CancellationToken cancellationToken)
    {
        if (!_session.Options.Verify) return;
        string? expected = null, actual = null;
        if (_entry.Sha256 is { } sha)
        {
            expected = sha;
            actual = LocalFileHasher.Sha256Hex(_partialPath, cancellationToken);
        }
        else if (_entry.GitOid is { Length: 40 } oid)
        {
            expected = oid;
            actual = LocalFileHasher.GitBlobSha1Hex(_partialPath, cancellationToken);
        }
        if (expected is not null && !string.Equals(actual, expected, StringComparison.OrdinalIgnoreCase))
        {
            _work.Delete();
            throw new XetHashMismatchException(_entry.Path, expected.ToLowerInvariant(), actual!);
        }
    }

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
