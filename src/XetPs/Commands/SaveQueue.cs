using System;
using System.Collections.Generic;
using System.Threading;
using System.Threading.Channels;
using System.Threading.Tasks;
using XetPs.Cache;
using XetPs.Hub;
using XetPs.Reconstruction;

namespace XetPs.Commands;

/// <summary>
/// One file Save-XetFile accepted: where it comes from, where it goes (a folder, <see cref="Request"/>, or the Hugging
/// Face cache, <see cref="CacheRequest"/>: exactly one is set), its progress id, and its place in the input
/// (<see cref="SaveBatch"/> releases -PassThru objects in that order).
/// </summary>
internal sealed record SaveItem(int ProgressId, int Order, XetSession Session, RepoId Repo, string RepoPath, FileDownloadRequest? Request,
    CacheDownloadRequest? CacheRequest = null)
{
    /// <summary>The size when the listing told us (known before the first byte arrives), else null.</summary>
    public long? KnownSize => (Request?.Entry ?? CacheRequest?.Entry)?.Size;

    /// <summary>Downloads the file where it goes.</summary>
    public Task<FileDownloadResult> RunAsync(IProgress<FileProgress> progress, CancellationToken cancellationToken) =>
        CacheRequest is not null
            ? Session.DownloadToCacheAsync(CacheRequest, progress, cancellationToken)
            : Session.DownloadAsync(Request!, progress, cancellationToken);
}

/// <summary>
/// Runs Save-XetFile's downloads: up to ThrottleLimit files at a time, each on its endpoint's shared
/// <see cref="XetSession"/>, while the pipeline keeps feeding new files in. Workers never touch PowerShell; everything they learn goes to the
/// <see cref="Outbox"/>. Invariants: every enqueued item ends as exactly one FileSaved or FileFailed message (or is
/// dropped unstarted after cancellation); the outbox is completed only after the last worker has posted its last
/// message, so the pipeline thread's drain loop ends exactly when the work does.
/// </summary>
internal sealed class SaveQueue
{
    private readonly Outbox _outbox;
    private readonly int _throttleLimit;
    private readonly CancellationToken _cancellation;
    private readonly Channel<SaveItem> _requests = Channel.CreateUnbounded<SaveItem>(
        new UnboundedChannelOptions { SingleReader = false, SingleWriter = true });
    private readonly List<Task> _workers = new();
    private Task? _completion;

    public SaveQueue(Outbox outbox, int throttleLimit, CancellationToken cancellation)
    {
        _outbox = outbox;
        _throttleLimit = throttleLimit;
        _cancellation = cancellation;
    }

    /// <summary>Completes when every worker has ended (after <see cref="CompleteAdding"/> or cancellation).</summary>
    public Task Completion => _completion ?? Task.CompletedTask;

    public void Enqueue(SaveItem item)
    {
        if (_workers.Count == 0)
        {
            for (var i = 0; i < _throttleLimit; i++) _workers.Add(Task.Run(RunWorkerAsync));
        }
        _requests.Writer.TryWrite(item);
    }

    /// <summary>No more input: workers finish what is queued, then the outbox closes.</summary>
    public void CompleteAdding()
    {
        _requests.Writer.TryComplete();
        _completion ??= _workers.Count == 0
            ? Task.CompletedTask
            : Task.WhenAll(_workers);
        _completion.ContinueWith(_ => _outbox.Complete(), CancellationToken.None,
            TaskContinuationOptions.ExecuteSynchronously, TaskScheduler.Default);
    }

    private async Task RunWorkerAsync()
    {
        try
        {
            var reader = _requests.Reader;
            while (await reader.WaitToReadAsync(_cancellation).ConfigureAwait(false))
            {
                while (!_cancellation.IsCancellationRequested && reader.TryRead(out var item))
                {
                    await SaveAsync(item).ConfigureAwait(false);
                }
            }
        }
        catch (OperationCanceledException) when (_cancellation.IsCancellationRequested)
        {
            // Stopped or failed elsewhere: the cmdlet already knows why; unstarted items are dropped.
        }
    }

    private async Task SaveAsync(SaveItem item)
    {
        _outbox.Post(new FileStarted(item));
        try
        {
            var result = await item.RunAsync(new OutboxProgress(_outbox, item), _cancellation)
                .ConfigureAwait(false);
            _outbox.Post(new FileSaved(item, result));
        }
        catch (Exception e)
        {
            // The originating exception goes to the pipeline thread as is: it becomes ErrorRecord.Exception.
            _outbox.Post(new FileFailed(item, e));
        }
    }

    /// <summary>Waits (bounded) for the workers to notice cancellation; true when they all ended in time.</summary>
    public bool WaitForWorkers(TimeSpan timeout)
    {
        var all = _workers.Count == 0 ? Task.CompletedTask : Task.WhenAll(_workers.ToArray());
        try
        {
            return all.Wait(timeout);
        }
        catch (AggregateException)
        {
            // Workers catch everything themselves; a fault here would be a bug, and it ended the worker anyway.
            return all.IsCompleted;
        }
    }
}
