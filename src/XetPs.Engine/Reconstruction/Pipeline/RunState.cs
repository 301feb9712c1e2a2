using System;
using System.Runtime.ExceptionServices;
using System.Threading;

namespace XetPs.Reconstruction;

/// <summary>
/// The shared fate of one file's tasks (segment fetcher, scheduler, writer, watchdog, xorb loads it started).
/// Invariant: the first error wins; recording it cancels <see cref="Token"/> so every other task of the file stops,
/// and the caller receives that very exception object, rethrown with its original stack. Cancellations caused by
/// that first error are never reported in its place; when the caller's own token was cancelled, the caller gets an
/// <see cref="OperationCanceledException"/> for that token.
/// </summary>
internal sealed class RunState : IDisposable
{
    private readonly CancellationTokenSource _cts;
    private readonly CancellationToken _callerToken;
    private Exception? _error;

    public RunState(CancellationToken callerToken, CancellationToken sessionToken)
    {
        _callerToken = callerToken;
        _cts = CancellationTokenSource.CreateLinkedTokenSource(callerToken, sessionToken);
        Token = _cts.Token;
    }

    /// <summary>Cancelled when the file fails, the caller cancels or the session is disposed.</summary>
    public CancellationToken Token { get; }

    /// <summary>The error that ended the file, if any.</summary>
    public Exception? Error => Volatile.Read(ref _error);

    public bool IsFailed => Error is not null || Token.IsCancellationRequested;

    /// <summary>Records <paramref name="error"/> if it is the first; cancels the file's tasks. Returns true if it won.</summary>
    public bool Fail(Exception error)
    {
        if (error is null) throw new ArgumentNullException(nameof(error));
        // A cancellation that our own token caused (because another error won, or the caller cancelled) is an echo,
        // not a cause; record it only when nothing else explains the cancellation.
        if (error is OperationCanceledException && Error is not null) return false;
        if (Interlocked.CompareExchange(ref _error, error, null) is not null) return false;
        try
        {
            _cts.Cancel();
        }
        catch (AggregateException)
        {
            // A cancellation callback threw; the file is failing anyway with the error recorded above.
        }
        return true;
    }

    /// <summary>Throws what ended the file: the caller's cancellation, or the first error as the same object.</summary>
    public void ThrowIfFailed()
    {
        var error = Error;
        if (_callerToken.IsCancellationRequested && (error is null || error is OperationCanceledException))
            throw new OperationCanceledException("The download was cancelled.", error, _callerToken);
        if (error is not null) ExceptionDispatchInfo.Capture(error).Throw();
        Token.ThrowIfCancellationRequested();
    }

    public void Dispose() => _cts.Dispose();
}
