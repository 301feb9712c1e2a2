using System;
using System.IO;

namespace XetPs.Bench.Nightly;

/// <summary>
/// One revision of the nightly benchmark's base file: <see cref="Removed"/> bytes at <see cref="Offset"/> replaced by
/// <see cref="Inserted"/> new bytes. Growing by a day of rows is an edit at the end that removes nothing; a re-upload
/// with a few tensors changed removes as many bytes as it inserts.
/// </summary>
public sealed record NightlyVariant(string Name, long Offset, long Removed, long Inserted)
{
    /// <summary>The base grown by <paramref name="appended"/> bytes.</summary>
    public static NightlyVariant Append(long baseSize, long appended) => new("append", baseSize, 0, appended);

    /// <summary>The base with <paramref name="changed"/> bytes replaced at its centre.</summary>
    public static NightlyVariant Middle(long baseSize, long changed) => new("middle", (baseSize - changed) / 2, changed, changed);

    public long RevisedSize(long baseSize) => baseSize - Removed + Inserted;

    /// <summary>
    /// The revision's bytes, read once front to back: the base up to <see cref="Offset"/>, the inserted bytes, then the
    /// base after the removed ones. The inserted stream must hold exactly <see cref="Inserted"/> bytes.
    /// </summary>
    public Stream Open(Stream baseContent, Stream inserted) => new RevisedStream(this, baseContent, inserted);

    private sealed class RevisedStream(NightlyVariant edit, Stream baseContent, Stream inserted) : Stream
    {
        private long _baseRead;
        private long _insertedRead;
        private bool _removedSkipped;

        public override int Read(byte[] buffer, int offset, int count) => Read(buffer.AsSpan(offset, count));

        public override int Read(Span<byte> buffer)
        {
            if (buffer.IsEmpty) return 0;
            if (_baseRead < edit.Offset)
                return FromBase(buffer[..(int)Math.Min(buffer.Length, edit.Offset - _baseRead)], mustHave: true);
            if (_insertedRead < edit.Inserted)
            {
                var n = inserted.Read(buffer[..(int)Math.Min(buffer.Length, edit.Inserted - _insertedRead)]);
                if (n == 0) throw new EndOfStreamException($"the inserted bytes end after {_insertedRead} of {edit.Inserted}");
                _insertedRead += n;
                return n;
            }
            if (!_removedSkipped)
            {
                var scratch = new byte[64 << 10];
                while (_baseRead < edit.Offset + edit.Removed)
                    FromBase(scratch.AsSpan(0, (int)Math.Min(scratch.Length, edit.Offset + edit.Removed - _baseRead)), mustHave: true);
                _removedSkipped = true;
            }
            return FromBase(buffer, mustHave: false);
        }

        private int FromBase(Span<byte> buffer, bool mustHave)
        {
            var n = baseContent.Read(buffer);
            if (n == 0 && mustHave)
                throw new EndOfStreamException($"the base ends at {_baseRead} bytes, before the edit's end at {edit.Offset + edit.Removed}");
            _baseRead += n;
            return n;
        }

        public override bool CanRead => true;
        public override bool CanSeek => false;
        public override bool CanWrite => false;
        public override long Length => throw new NotSupportedException();
        public override long Position { get => throw new NotSupportedException(); set => throw new NotSupportedException(); }
        public override void Flush() { }
        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
        public override void SetLength(long value) => throw new NotSupportedException();
        public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();

        protected override void Dispose(bool disposing)
        {
            if (disposing)
            {
                baseContent.Dispose();
                inserted.Dispose();
            }
            base.Dispose(disposing);
        }
    }
}
