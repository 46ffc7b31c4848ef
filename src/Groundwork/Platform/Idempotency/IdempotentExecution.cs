using System.Security.Cryptography;
using System.Text.Json;
using Groundwork.Platform.Http;
using Groundwork.Platform.Operations;

namespace Groundwork.Platform.Idempotency;

/// <summary>A response an idempotent run produced now, or the one it replayed.</summary>
public sealed record IdempotentResult(StoredResponse Response, bool Replayed);

/// <summary>
/// The transport-neutral half of idempotency (docs/adr/0005, 0007): claim the key, run the operation through the
/// pipeline, store the rendered response in the operation's own transaction, release the claim on failure.
/// REST renders its HTTP envelope; GraphQL and gRPC store the operation's value as JSON, so a retry over either
/// of them replays the same value.
/// </summary>
public sealed class IdempotentExecution(OperationPipeline pipeline, IdempotencyStore store)
{
    public const int MaxKeyLength = 255;

    /// <summary>The key rule of SPEC §9 (1–255 printable characters), reported under the transport's field name.</summary>
    public static Error? ValidateKey(string? key, string field) =>
        string.IsNullOrEmpty(key) ? Error.Validation(field, "This request requires an idempotency key")
        : key.Length > MaxKeyLength || key.Any(char.IsControl) ? Error.Validation(field, "Must be 1 to 255 printable characters")
        : null;

    /// <summary>The key record for an operation called over GraphQL or gRPC: same operation, same request body.</summary>
    public static IdempotencyRequest ForOperation<TRequest>(Caller caller, string key, string operationName, TRequest request)
    {
        ArgumentNullException.ThrowIfNull(caller);
        var fingerprint = Convert.ToHexStringLower(SHA256.HashData(JsonSerializer.SerializeToUtf8Bytes(request, Json.Options)));
        return new IdempotencyRequest(caller.PrincipalKey, key, "OPERATION", operationName, fingerprint);
    }

    public async Task<Result<IdempotentResult>> RunAsync<TRequest, TResponse>(
        IdempotencyRequest key,
        IOperation<TRequest, TResponse> operation,
        TRequest request,
        Caller caller,
        Func<TResponse, StoredResponse> render,
        CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(render);
        var claim = await store.ClaimAsync(key, cancellationToken);
        switch (claim)
        {
            case ClaimOutcome.Replay replay:
                return new IdempotentResult(replay.Response, Replayed: true);
            case ClaimOutcome.Refused refused:
                return refused.Error;
        }

        var token = ((ClaimOutcome.Claimed)claim).LockToken;
        StoredResponse? rendered = null;
        try
        {
            var result = await pipeline.RunAsync(operation, request, caller, cancellationToken, async (value, db, ct) =>
            {
                rendered = render(value);
                await IdempotencyStore.CompleteAsync(db, key, token, rendered, ct);
            });
            if (!result.IsSuccess)
            {
                // Failed or rolled back: remember nothing, so a corrected retry with the same key runs.
                await store.ReleaseAsync(key, token, CancellationToken.None);
                return result.Error;
            }

            return new IdempotentResult(rendered ?? render(result.Value), Replayed: false);
        }
        catch (IdempotencyClaimLostException)
        {
            return Error.Conflict("A request with this idempotency key is still in progress; retry later", ConflictKind.Concurrency);
        }
        catch
        {
            await store.ReleaseAsync(key, token, CancellationToken.None);
            throw;
        }
    }

    /// <summary>
    /// Runs an operation for a non-REST transport and returns its value, replayed or fresh. The key comes from
    /// the transport (<paramref name="keyField"/> names it in errors); without one, an optional-key operation
    /// runs plainly and a required-key one is refused.
    /// </summary>
    public async Task<Result<TResponse>> RunValueAsync<TRequest, TResponse>(
        string keyField,
        string? key,
        bool keyRequired,
        IOperation<TRequest, TResponse> operation,
        TRequest request,
        Caller caller,
        CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(operation);
        if (key is null && !keyRequired)
        {
            return await pipeline.RunAsync(operation, request, caller, cancellationToken);
        }

        if (ValidateKey(key, keyField) is { } invalid)
        {
            return invalid;
        }

        var record = ForOperation(caller, key!, operation.GetType().Name, request);
        var result = await RunAsync(record, operation, request, caller,
            value => new StoredResponse(StatusCodes.Status200OK, JsonSerializer.Serialize(value, Json.Options), null), cancellationToken);
        // Fresh or replayed, the caller gets the stored form, so a retry's answer is identical to the first.
        return result.IsSuccess
            ? JsonSerializer.Deserialize<TResponse>(result.Value.Response.Body, Json.Options)!
            : result.Error;
    }
}
