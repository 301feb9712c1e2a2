using System;
using System.Runtime.ExceptionServices;
using System.Threading.Tasks;

namespace XetPs.Commands;

/// <summary>
/// The cmdlets' synchronous waits for the engine's cleanup (disposing a session or a listing), which run on the
/// pipeline thread and so must be bounded: a stuck teardown must not hold the prompt. Invariant: a cleanup that fails
/// surfaces as its own exception, never as the AggregateException that Task.Wait wraps it in, so the user sees the
/// cause (STYLE: no AggregateException reaching a user).
/// </summary>
internal static class BoundedWait
{
    /// <summary>Waits up to <paramref name="timeout"/>; true when <paramref name="cleanup"/> finished in time.</summary>
    public static bool For(ValueTask cleanup, TimeSpan timeout)
    {
        var task = cleanup.AsTask();
        try
        {
            return task.Wait(timeout);
        }
        catch (AggregateException e) when (e.InnerExceptions.Count == 1)
        {
            ExceptionDispatchInfo.Capture(e.InnerExceptions[0]).Throw();
            throw; // not reached: Throw always throws
        }
    }
}
