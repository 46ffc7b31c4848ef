using System.IO.Compression;
using Grpc.Net.Compression;
using Groundwork.Platform.Operations;

namespace Groundwork.Platform.GrpcServer;

/// <summary>
/// Grpc.AspNetCore's own gzip and deflate, with a message whose bytes do not decompress refused as
/// <c>INVALID_ARGUMENT</c> (field <c>message</c>), like one that does not parse: Grpc.AspNetCore decompresses inside
/// its frame reader, where the stream's <see cref="InvalidDataException"/> became UNKNOWN, "Exception was thrown by
/// handler." The decompressed size is still Grpc.AspNetCore's to bound (the 1 MiB message limit applies to both sizes).
/// </summary>
public sealed class CheckedDecompression(ICompressionProvider inner) : ICompressionProvider
{
    /// <summary>The encodings Grpc.AspNetCore offers when none are configured, each checked.</summary>
    public static IEnumerable<ICompressionProvider> Defaults() =>
    [
        new CheckedDecompression(new GzipCompressionProvider(CompressionLevel.Fastest)),
        new CheckedDecompression(new DeflateCompressionProvider(CompressionLevel.Fastest)),
    ];

    public string EncodingName => inner.EncodingName;

    public Stream CreateCompressionStream(Stream stream, CompressionLevel? compressionLevel) =>
        inner.CreateCompressionStream(stream, compressionLevel);

    public Stream CreateDecompressionStream(Stream stream) => new Checked(inner.CreateDecompressionStream(stream), EncodingName);

    /// <summary>Reads through the decompressing stream; data it cannot decompress is the client's error.</summary>
    private sealed class Checked(Stream decompressing, string encoding) : Stream
    {
        public override bool CanRead => true;
        public override bool CanSeek => false;
        public override bool CanWrite => false;
        public override long Length => throw new NotSupportedException();
        public override long Position { get => throw new NotSupportedException(); set => throw new NotSupportedException(); }

        public override int Read(byte[] buffer, int offset, int count) => Read(buffer.AsSpan(offset, count));

        public override int Read(Span<byte> buffer)
        {
            try
            {
                return decompressing.Read(buffer);
            }
            catch (InvalidDataException)
            {
                throw Refusal();
            }
        }

        public override async ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default)
        {
            try
            {
                return await decompressing.ReadAsync(buffer, cancellationToken);
            }
            catch (InvalidDataException)
            {
                throw Refusal();
            }
        }

        public override Task<int> ReadAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
            ReadAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();

        private Exception Refusal() => GrpcOperations.ToRpcException(
            Error.Validation("message", $"The request message is not valid {encoding} data"), requestId: null);

        public override void Flush() { }
        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
        public override void SetLength(long value) => throw new NotSupportedException();
        public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();

        protected override void Dispose(bool disposing)
        {
            if (disposing)
            {
                decompressing.Dispose();
            }

            base.Dispose(disposing);
        }
    }
}
