using System;
using System.IO;
using System.Runtime.InteropServices;
using System.Text;
using System.Threading;
using System.Threading.Tasks;
using Microsoft.Extensions.Logging;

namespace XetPs.Reconstruction;

/// <summary>
/// One download at a time per destination file, across sessions and processes: the destination's record file
/// (<see cref="LocalFileRecord.PathFor"/>) is held open without sharing from the up-to-date check until the record of
/// the finished file is written. .NET takes <c>flock(LOCK_EX)</c> for that on Unix and a share mode on Windows, so the
/// lock goes with the handle, however the process ends.
/// Why: two overlapping runs of a nightly job would otherwise write the same partial file at once, and one could cut
/// back what the other had already verified, or move it away under the other's writes.
/// Why the record file: it exists for every downloaded file anyway, so the lock costs no extra file (creating files is
/// what small downloads pay most for). An empty record, left by a download that failed, reads as no record.
/// Where the record cannot be opened for writing (a read-only destination, a full disk), there is no lock and the
/// download goes on as it would have without one: an up-to-date check still reads the record, and a download fails
/// on its own writes with the real cause.
/// Invariants: while the lock is held the record is read and written only through its handle; Dispose releases it.
/// </summary>
internal sealed class DestinationLock : IRecordKeeper, IDisposable
{
    private static readonly TimeSpan FirstRetry = TimeSpan.FromMilliseconds(50);
    private static readonly TimeSpan LastRetry = TimeSpan.FromSeconds(1);

    private readonly FileStream? _record; // null: no lock (the record could not be opened for writing)
    private readonly string _recordPath;

    private DestinationLock(FileStream? record, string recordPath)
    {
        _record = record;
        _recordPath = recordPath;
    }

    /// <summary>
    /// Takes the lock of <paramref name="recordPath"/>, waiting (polling, with no bound but
    /// <paramref name="cancellationToken"/>) while another download of the same destination holds it: that one may take
    /// hours, and ends with the file this one then finds up to date.
    /// </summary>
    /// <param name="root">The destination root whose working folder holds the record (<see cref="LocalFileRecord.Locate"/>).</param>
    public static async Task<DestinationLock> AcquireAsync(string root, string recordPath, string destination, ILogger? logger, CancellationToken cancellationToken)
    {
        var delay = FirstRetry;
        var told = false;
        while (true)
        {
            cancellationToken.ThrowIfCancellationRequested();
            try
            {
                // A link in the working folder is refused (UnsafeWorkPathException), not taken for "no lock".
                WorkFolder.Prepare(root, recordPath);
                return new DestinationLock(WorkFolder.OpenStream(recordPath, FileMode.OpenOrCreate, FileAccess.ReadWrite, FileShare.None, 4096, FileOptions.None), recordPath);
            }
            catch (IOException e) when (IsHeldElsewhere(e))
            {
                if (!told) // a warning, so -Verbose shows why a file seems to make no progress
                {
                    logger?.LogWarning("Waiting for another download of {Destination} to end (it holds {Record})", destination, recordPath);
                    told = true;
                }
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                logger?.LogDebug("No lock on {Destination}: its record {Record} cannot be opened for writing ({Error})", destination, recordPath, e.Message);
                return new DestinationLock(null, recordPath);
            }
            await Task.Delay(delay, cancellationToken).ConfigureAwait(false);
            delay = TimeSpan.FromTicks(Math.Min(delay.Ticks * 2, LastRetry.Ticks));
        }
    }

    /// <summary>The record as it stands, or null when there is none (an empty or unreadable file).</summary>
    public LocalFileRecord? Read()
    {
        try
        {
            if (_record is null) return File.Exists(_recordPath) ? LocalFileRecord.Parse(File.ReadAllText(_recordPath)) : null;
            _record.Position = 0;
            using var reader = new StreamReader(_record, Encoding.UTF8, detectEncodingFromByteOrderMarks: false, 4096, leaveOpen: true);
            return LocalFileRecord.Parse(reader.ReadToEnd());
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return null;
        }
    }

    /// <summary>
    /// Records the file now at <paramref name="destinationPath"/> as <paramref name="identity"/>, <paramref name="verified"/>
    /// when its bytes were checked against it, <paramref name="synced"/> when they were forced to the device (best effort:
    /// without a record the next run hashes the file once, slower and never wrong; a record cut short by a crash reads as
    /// none).
    /// </summary>
    public void Write(string identity, string destinationPath, bool verified, bool synced = false)
    {
        if (_record is null) return;
        try
        {
            var bytes = Encoding.UTF8.GetBytes(LocalFileRecord.Format(identity, new FileInfo(destinationPath), synced, verified));
            _record.SetLength(0);
            _record.Position = 0;
            _record.Write(bytes, 0, bytes.Length);
            _record.Flush();
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            // Without a record the next run hashes the file once.
        }
    }

    public void Dispose() => _record?.Dispose();

    /// <summary>
    /// The open failed because another handle holds the file. Windows: ERROR_SHARING_VIOLATION or ERROR_LOCK_VIOLATION;
    /// Unix: .NET's <c>flock</c> found it locked, and the HResult is that errno, EWOULDBLOCK (11 on Linux, 35 on macOS
    /// and the BSDs).
    /// </summary>
    private static bool IsHeldElsewhere(IOException e) =>
        RuntimeInformation.IsOSPlatform(OSPlatform.Windows) ? (e.HResult & 0xFFFF) is 32 or 33
        : e.HResult == (RuntimeInformation.IsOSPlatform(OSPlatform.Linux) ? 11 : 35);
}
