using System;
using System.Threading.Channels;
using XetPs.Reconstruction;

namespace XetPs.Commands;

/// <summary>What a worker wants written to the pipeline. Only the pipeline thread reads these.</summary>
internal abstract record OutboxMessage;

internal sealed record LogLine(XetLogLevel Level, string Text) : OutboxMessage;

internal sealed record FileStarted(SaveItem Item) : OutboxMessage;

internal sealed record FileProgressed(SaveItem Item, FileProgress Progress) : OutboxMessage;

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

/// <summary>Forwards one file's progress to the outbox, on whatever thread the engine reports it.</summary>
internal sealed class OutboxProgress : IProgress<FileProgress>
{
    private readonly Outbox _outbox;
    private readonly SaveItem _item;

    public OutboxProgress(Outbox outbox, SaveItem item)
    {
        _outbox = outbox;
        _item = item;
    }

    public void Report(FileProgress value) => _outbox.Post(new FileProgressed(_item, value));
}
