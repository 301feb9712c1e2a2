using System;
using System.Threading.Channels;
using XetPs.Reconstruction;

namespace XetPs.Commands;

/// <summary>What a worker wants written to the pipeline. Only the pipeline thread reads these.</summary>
internal abstract record OutboxMessage;

internal sealed record LogLine(XetLogLevel Level, string Text) : OutboxMessage;

internal sealed record FileStarted(SaveItem Item) : OutboxMessage;

/// <summary>The file's progress has moved; <see cref="OutboxProgress.Take"/> gives its latest value.</summary>
internal sealed record FileProgressed(SaveItem Item, OutboxProgress Source) : OutboxMessage;

internal sealed record FileSaved(SaveItem Item, FileDownloadResult Result) : OutboxMessage;

internal sealed record FileFailed(SaveItem Item, Exception Exception) : OutboxMessage;

/// <summary>
/// The one-way mailbox from engine threads to the pipeline thread. PowerShell lets only the pipeline thread call
/// WriteObject/WriteProgress/WriteVerbose/WriteError, so workers post here and the cmdlet drains.
/// Invariant: posting never blocks and never fails while the cmdlet runs (unbounded, many writers, one reader);
/// the channel is completed when the last worker ends, so the reader's loop ends without a sentinel.
/// </summary>
internal sealed class Outbox
{
    private readonly Channel<OutboxMessage> _channel = Channel.CreateUnbounded<OutboxMessage>(
        new UnboundedChannelOptions { SingleReader = true, SingleWriter = false });

    public ChannelReader<OutboxMessage> Reader => _channel.Reader;

    public void Post(OutboxMessage message) => _channel.Writer.TryWrite(message);

    public void Log(XetLogLevel level, string text) => Post(new LogLine(level, text));

    public void Complete() => _channel.Writer.TryComplete();
}

/// <summary>
/// Forwards one file's progress to the outbox, on whatever thread the engine reports it, collapsing reports that
/// come while the pipeline thread has not yet taken the last one. Why: the pipeline thread draws progress, and a
/// console can be slow to draw (a slow SSH link, a terminal that does not answer pwsh's cursor queries: 250 ms a
/// record). One message per report then queued a draw per report behind the download, which had long finished, and
/// held the command for minutes, with memory growing per report; collapsed, a slow console costs a few draws.
/// Invariant: at most one FileProgressed of this file is in the outbox, and taking it gives the latest report.
/// </summary>
internal sealed class OutboxProgress : IProgress<FileProgress>
{
    private readonly Outbox _outbox;
    private readonly SaveItem _item;
    private readonly object _gate = new(); // held for a field copy, never across a call out
    private FileProgress _latest;
    private bool _posted;

    public OutboxProgress(Outbox outbox, SaveItem item)
    {
        _outbox = outbox;
        _item = item;
    }

    public void Report(FileProgress value)
    {
        lock (_gate)
        {
            _latest = value;
            if (_posted) return; // the message in the outbox will carry this value
            _posted = true;
        }
        _outbox.Post(new FileProgressed(_item, this));
    }

    /// <summary>The latest report; a report after this posts a new message. Called by the pipeline thread.</summary>
    public FileProgress Take()
    {
        lock (_gate)
        {
            _posted = false;
            return _latest;
        }
    }
}
