using System;
using System.Threading;

namespace XetPs.Reconstruction;

/// <summary>
/// How many bytes of one load's request have arrived so far (of the current attempt: a retry starts again from 0).
/// Written by the load's reads, read by the files waiting for the block to show progress while a range, up to a whole
/// xorb, is still arriving. Display only: read without the registry's lock, a stale value shows progress a moment
/// late, nothing else depends on it.
/// </summary>
internal sealed class LoadArrival : IProgress<long>
{
    private long _bytes;

    public long Bytes => Interlocked.Read(ref _bytes);

    public void Report(long value) => Interlocked.Exchange(ref _bytes, value);
}
