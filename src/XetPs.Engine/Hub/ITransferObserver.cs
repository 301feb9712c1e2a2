using System;

namespace XetPs.Hub;

/// <summary>
/// What a <see cref="XetHttpTransport"/> tells its session about the traffic it carries, the evidence the stall
/// watchdog judges by: body bytes as they arrive, and each operation from its start to its end with every failed
/// attempt. Implementations are thread-safe and cheap: <see cref="Received"/> runs on every body read.
/// </summary>
internal interface ITransferObserver
{
    /// <summary>Bytes of a response body just read (any request, any host).</summary>
    void Received(long bytes);

    /// <summary>An operation starts (all its attempts); the caller disposes the handle when it ends, in a finally.</summary>
    ITransferOperation Started(string operation);
}

/// <summary>One operation of the transport in flight, as its <see cref="ITransferObserver"/> sees it.</summary>
internal interface ITransferOperation : IDisposable
{
    /// <summary>An attempt starts (the first, or a retry after the backoff).</summary>
    void AttemptStarted();

    /// <summary>The attempt just started failed with <paramref name="error"/>; a retry may follow.</summary>
    void AttemptFailed(Exception error);
}
