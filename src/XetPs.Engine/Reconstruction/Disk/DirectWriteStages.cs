using System;
using System.Collections.Generic;

namespace XetPs.Reconstruction;

/// <summary>
/// The aligned stage buffers of a session's direct writes (<see cref="DirectFileWriter"/>): at most
/// <see cref="MaxSets"/> files write directly at once, each with one set of <see cref="StagesPerSet"/> stages, and a set
/// is reused by the next file. Why a limit: the stages are memory outside the buffer permits (12 MiB a file), and four
/// shards of a model downloading at once would otherwise add 48 MiB; a file that finds no free set writes through the
/// page cache as before. Thread-safe.
/// </summary>
internal sealed class DirectWriteStages
{
    /// <summary>Stage buffers are aligned to this; file systems needing more get no direct writes.</summary>
    public const int Alignment = 4096;

    /// <summary>Files writing directly at once.</summary>
    public const int MaxSets = 2;

    /// <summary>Stages of one file: one filling while up to two are written.</summary>
    public const int StagesPerSet = 3;

    private readonly object _gate = new();
    private readonly Stack<Memory<byte>[]> _free = new();
    private int _rented;

    public DirectWriteStages(int stageSize)
    {
        if (stageSize <= 0 || stageSize % Alignment != 0)
            throw new ArgumentOutOfRangeException(nameof(stageSize), stageSize, $"A stage is a positive multiple of {Alignment} bytes.");
        StageSize = stageSize;
    }

    public int StageSize { get; }

    /// <summary>Sets handed out and not yet returned.</summary>
    public int Rented
    {
        get { lock (_gate) return _rented; }
    }

    /// <summary>A set of stages, or null when <see cref="MaxSets"/> files already write directly.</summary>
    public Memory<byte>[]? TryRent()
    {
        lock (_gate)
        {
            if (_rented == MaxSets) return null;
            _rented++;
            if (_free.Count > 0) return _free.Pop();
        }
        try
        {
            var set = new Memory<byte>[StagesPerSet];
            for (var i = 0; i < set.Length; i++) set[i] = AlignedBuffer(StageSize);
            return set;
        }
        catch
        {
            lock (_gate) _rented--;
            throw;
        }
    }

    /// <summary>Gives a set back once no write reads from it any more.</summary>
    public void Return(Memory<byte>[] set)
    {
        lock (_gate)
        {
            if (_rented == 0) throw new InvalidOperationException("A direct-write stage set was returned twice.");
            _rented--;
            _free.Push(set);
        }
    }

    /// <summary>A pinned buffer whose first byte is at a multiple of <see cref="Alignment"/>.</summary>
    private static unsafe Memory<byte> AlignedBuffer(int length)
    {
#if NET8_0_OR_GREATER
        var array = GC.AllocateUninitializedArray<byte>(length + Alignment, pinned: true);
        fixed (byte* start = array)
        {
            var skip = (int)((Alignment - (long)start % Alignment) % Alignment);
            return new Memory<byte>(array, skip, length);
        }
#else
        // Direct writes exist on .NET 8+ only (Linux); nothing rents here.
        return new Memory<byte>(new byte[length]);
#endif
    }
}
