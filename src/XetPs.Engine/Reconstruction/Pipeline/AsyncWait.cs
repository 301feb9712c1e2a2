using System.Threading;
using System.Threading.Tasks;

namespace XetPs.Reconstruction;

/// <summary>
/// Waits for a task that someone else owns, giving up when <em>our</em> token is cancelled (the task keeps running
/// for its owner). net8.0 has Task.WaitAsync; this is the netstandard2.0 equivalent.
/// </summary>
internal static class AsyncWait
{
    public static async Task<T> WaitAsync<T>(Task<T> task, CancellationToken cancellationToken)
    {
#if NET8_0_OR_GREATER
        return await task.WaitAsync(cancellationToken).ConfigureAwait(false);
#else
        if (task.IsCompleted || !cancellationToken.CanBeCanceled) return await task.ConfigureAwait(false);
        var cancelled = new TaskCompletionSource<bool>(TaskCreationOptions.RunContinuationsAsynchronously);
        using (cancellationToken.Register(static s => ((TaskCompletionSource<bool>)s!).TrySetResult(true), cancelled))
        {
            if (await Task.WhenAny(task, cancelled.Task).ConfigureAwait(false) != task)
                throw new System.OperationCanceledException(cancellationToken);
        }
        return await task.ConfigureAwait(false);
#endif
    }
}
