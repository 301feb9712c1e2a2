using System.Threading;
using Microsoft.Extensions.Logging;

namespace XetPs.Reconstruction;

/// <summary>
/// What every file of one session shares: the xorb registry (with the buffer and CAS permits inside it), the
/// direct-write stages, the disk-space claims, the progress counters the watchdog reads, the validated options, the
/// logger and the session's lifetime token.
/// </summary>
internal sealed class SessionResources
{
    public SessionResources(XetSessionOptions options, ILogger? logger, CancellationToken sessionToken)
    {
        Options = options;
        Logger = logger;
        SessionToken = sessionToken;
        Activity = new TransferActivity();
        Registry = new XorbRegistry(options.BufferSize, options.CasConcurrency, options.Verify, Activity, logger, sessionToken);
        DirectWriteStages = new DirectWriteStages(options.DirectWriteStageSize);
    }

    /// <summary>Room claimed on the destination volumes by the downloads under way.</summary>
    public DiskSpaceLedger DiskSpace { get; } = new();

    public DirectWriteStages DirectWriteStages { get; }

    public XetSessionOptions Options { get; }

    public ILogger? Logger { get; }

    public CancellationToken SessionToken { get; }

    public TransferActivity Activity { get; }

    public XorbRegistry Registry { get; }
}
