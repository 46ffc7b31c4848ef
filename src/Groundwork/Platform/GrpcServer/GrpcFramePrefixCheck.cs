using System.Buffers;
using System.Buffers.Binary;
using Groundwork.Platform.Http;
using Groundwork.Platform.Operations;

namespace Groundwork.Platform.GrpcServer;

/// <summary>
/// Looks at the 5-byte prefix of a gRPC request's first message (a compression flag, then the length) before
/// Grpc.AspNetCore reads it, and refuses what its frame reader would fail on as a handler exception (UNKNOWN,
/// "Exception was thrown by handler."): a flag other than 0 or 1 is <c>INVALID_ARGUMENT</c>, a length past
/// 2³¹ − 1 <c>RESOURCE_EXHAUSTED</c> as any message over the 1 MiB limit is. Nothing is consumed: the service reads
/// the same bytes. Later messages of a client stream are Grpc.AspNetCore's to check (only reflection streams).
/// </summary>
public sealed class GrpcFramePrefixCheck(RequestDelegate next)
{
    private const int PrefixLength = 5;

    public async Task InvokeAsync(HttpContext context)
    {
        ArgumentNullException.ThrowIfNull(context);
        if (context.Request.ContentType?.StartsWith("application/grpc", StringComparison.OrdinalIgnoreCase) != true
            || !HttpMethods.IsPost(context.Request.Method))
        {
            await next(context);
            return;
        }

        var reader = context.Request.BodyReader;
        var read = await reader.ReadAtLeastAsync(PrefixLength, context.RequestAborted);
        var buffer = read.Buffer;
        Error? refusal = null;
        if (buffer.Length >= PrefixLength)
        {
            Span<byte> prefix = stackalloc byte[PrefixLength];
            buffer.Slice(0, PrefixLength).CopyTo(prefix);
            var length = BinaryPrimitives.ReadUInt32BigEndian(prefix[1..]);
            refusal = prefix[0] switch
            {
                > 1 => Error.Validation("message", "The message's compression flag must be 0 or 1"),
                _ when length > int.MaxValue => new Error(ErrorCode.PayloadTooLarge, "The message is larger than 1 MiB"),
                _ => null,
            };
        }

        // Consumed and examined nothing: the next read returns the same bytes at once.
        reader.AdvanceTo(buffer.Start);
        if (refusal is not null)
        {
            await TransportErrors.WriteAsync(context, refusal);
            return;
        }

        await next(context);
    }
}
