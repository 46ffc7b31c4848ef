using System.Text.Json;
using FluentValidation;
using Groundwork.Platform.Caching;
using Groundwork.Platform.Configuration;
using Groundwork.Platform.Http;
using Groundwork.Platform.Idempotency;
using Groundwork.Platform.Persistence;
using Groundwork.Platform.RateLimiting;
using Microsoft.EntityFrameworkCore;

namespace Groundwork.Platform.Operations;

/// <summary>
/// The one path every transport takes into the application. The operation declares; this decides, in one order
/// for REST, GraphQL and gRPC alike (docs/adr/0001-operation-pipeline.md):
/// <code>
/// rate limits → policy → defaults (what the caller left out) → validation (text safety, then the validator)
///   → the operation's preparation (bcrypt)
///   → [transaction: idempotency claim → handler → save (outbox rows, and the idempotency response unless it rides
///      in the next step, and the cache repair record) → before-commit writes (money movements, carrying the
///      response and the record when they ride) → commit]
///   → after-commit hooks
/// </code>
/// </summary>
public sealed class OperationPipeline(
    IServiceProvider services,
    RateLimiter limiter,
    GroundworkSettings settings,
    IdempotencyStore idempotency,
    CommitHooks hooks,
    SecurityAudit audit,
    ILogger<OperationPipeline> logger)
{
    private const int MaxAttempts = 5;

    private GroundworkDbContext? _db;

    /// <summary>
    /// The request's DbContext, rented from the pool on first use: an operation that runs no transaction (a read
    /// answered from the cache) never takes one, nor pays for resetting it at the end of the request.
    /// </summary>
    private GroundworkDbContext Db => _db ??= services.GetRequiredService<GroundworkDbContext>();

    private CacheRepairJournal? _journal;

    /// <summary>The cache keys this request's transaction writes through (resolved by writes only, like <see cref="Db"/>).</summary>
    private CacheRepairJournal Journal => _journal ??= services.GetRequiredService<CacheRepairJournal>();

    /// <summary>Runs an operation for a caller that sent no idempotency key (reads, batch loads, internal calls).</summary>
    public async Task<Result<TResponse>> RunAsync<TRequest, TResponse>(
        IOperation<TRequest, TResponse> operation, TRequest request, Caller caller, CancellationToken cancellationToken)
    {
        var result = await ExecuteAsync(operation, request, new OperationCall(caller, cancellationToken));
        return result.IsSuccess ? result.Value.Value : result.Error;
    }

    public async Task<Result<Completed<TResponse>>> ExecuteAsync<TRequest, TResponse>(
        IOperation<TRequest, TResponse> operation, TRequest request, OperationCall call)
    {
        ArgumentNullException.ThrowIfNull(operation);
        ArgumentNullException.ThrowIfNull(call);
        // One span per operation, whichever transport called it (only when tracing is on: null otherwise).
        using var activity = Hosting.Observability.Source.StartActivity(OperationName(operation));
        Result<Completed<TResponse>> result;
        try
        {
            result = await ExecuteCoreAsync(operation, request, call);
        }
        catch (NodeBusyException busy)
        {
            // A full queue on this node (password hashing): whatever had begun is rolled back, and the caller is told
            // when to retry, the same way on every transport. Debug only: a flood is thousands a second, and the
            // queue's own metric counts them (groundwork.auth.hashing_refused).
            logger.LogDebug("{Operation} refused: {Reason}", OperationName(operation), busy.Message);
            result = Error.Busy(busy.Message, busy.RetryAfterSeconds);
        }
        catch (Exception e) when (activity is not null && e is not OperationCanceledException)
        {
            activity.SetStatus(System.Diagnostics.ActivityStatusCode.Error, e.GetType().Name);
            throw;
        }

        if (!result.IsSuccess)
        {
            activity?.SetTag("groundwork.error.code", result.Error.Code.WireName());
            if (result.Error.Code is ErrorCode.AuthorizationError or ErrorCode.AuthenticationError)
            {
                await audit.RecordRefusalAsync(operation, request, call.Caller, result.Error);
            }
        }

        return result;
    }

    private async Task<Result<Completed<TResponse>>> ExecuteCoreAsync<TRequest, TResponse>(
        IOperation<TRequest, TResponse> operation, TRequest request, OperationCall call)
    {
        var caller = call.Caller;
        var cancellationToken = call.CancellationToken;

        // Limits first: a refused call must cost nothing (no validation, no database, no bcrypt).
        foreach (var limit in operation.RateLimits)
        {
            var decision = await limiter.TryAcquireAsync(limit.Name, limit.PartitionOf(request, caller), limit.Rule(settings.RateLimits));
            if (!decision.Allowed)
            {
                logger.LogWarning("Rate limit {Limit} refused {Operation} from {Ip}", limit.Name, OperationName(operation), caller.ClientIp);
                return Error.RateLimited(decision);
            }
        }

        if (operation.Policy.Check(caller) is { } denied)
        {
            return denied;
        }

        request = operation.WithDefaults(request, caller);
        if (await ValidateAsync(request, call.InputErrors, cancellationToken) is { } invalid)
        {
            return invalid;
        }

        await operation.PrepareAsync(request, caller, cancellationToken);
        var execution = operation.Execution;
        if (!execution.InTransaction)
        {
            var read = await operation.HandleAsync(request, caller, cancellationToken);
            return read.IsSuccess ? new Completed<TResponse>(read.Value, false) : read.Error;
        }

        IdempotencyClaim? claim = null;
        if (execution.Idempotency != IdempotencyMode.None)
        {
            if (call.IdempotencyKey is null)
            {
                if (execution.Idempotency == IdempotencyMode.Required)
                {
                    return Error.Validation(call.IdempotencyKeyField, "This request requires an idempotency key");
                }
            }
            else if (IdempotencyClaim.ValidateKey(call.IdempotencyKey, call.IdempotencyKeyField) is { } badKey)
            {
                return badKey;
            }
            else
            {
                claim = IdempotencyClaim.For(caller, call.IdempotencyKey, execution.IdempotencyName!, request);
            }
        }

        for (var attempt = 1; ; attempt++)
        {
            try
            {
                return await RunInTransactionAsync(operation, request, call, execution, claim);
            }
            catch (Exception e) when (attempt < MaxAttempts && DbErrors.IsRetryable(e))
            {
                // Serialization failure or deadlock: nothing was committed; run the whole operation again.
                logger.LogInformation("Retrying {Operation} after a transient database conflict (attempt {Attempt})", OperationName(operation), attempt);
                Reset();
                await Task.Delay(Random.Shared.Next(5, 20 * attempt), cancellationToken);
            }
            catch (Exception e) when (DbErrors.Classify(e) is { } expected)
            {
                // A unique index or a concurrency token decided: an expected outcome, not a fault.
                Reset();
                return expected;
            }
            catch
            {
                Reset();
                throw;
            }
        }
    }

    private async Task<Error?> ValidateAsync<TRequest>(TRequest request, IReadOnlyList<FieldError> inputErrors, CancellationToken cancellationToken)
    {
        if (inputErrors.Count > 0)
        {
            return Error.Validation(inputErrors);
        }

        if (TextSafety.Check(request) is { } unsafeText)
        {
            return Error.Validation([unsafeText]);
        }

        if (services.GetService(typeof(IValidator<TRequest>)) is not IValidator<TRequest> validator)
        {
            return null;
        }

        var validation = await validator.ValidateAsync(request, cancellationToken);
        return validation.IsValid
            ? null
            : Error.Validation(validation.Errors.Select(e => new FieldError(JsonFieldName(e.PropertyName), e.ErrorMessage)).ToList());
    }

    private async Task<Result<Completed<TResponse>>> RunInTransactionAsync<TRequest, TResponse>(
        IOperation<TRequest, TResponse> operation,
        TRequest request,
        OperationCall call,
        Execution execution,
        IdempotencyClaim? claim)
    {
        var cancellationToken = call.CancellationToken;
        // Rollbacks and the commit take no token: once the operation has decided, a caller who hangs up does not
        // interrupt it. A commit cut short leaves its outcome unknown, and a cancelled rollback fails (and is
        // logged as an error) where the transaction's disposal would have rolled back anyway.
        var uncancellable = CancellationToken.None;
        await using var transaction = execution.Isolation is { } isolation
            ? await Db.Database.BeginTransactionAsync(isolation, cancellationToken)
            : await Db.Database.BeginTransactionAsync(cancellationToken);

        // EF would open a savepoint before SaveChanges (a round trip of its own, inside the transaction) so a failed
        // save could be undone while the transaction lives on; here a failed save ends the whole attempt.
        Db.Database.AutoSavepointsEnabled = false;

        if (claim is not null)
        {
            switch (await idempotency.ClaimAsync(Db, claim, call.IdempotencyKeyField, cancellationToken))
            {
                case ClaimOutcome.Completed completed:
                    await transaction.RollbackAsync(uncancellable);
                    // The first run's node may have died between its commit and its cache writes: repaired before
                    // this success is reported (ADR 0024).
                    await services.GetRequiredService<CacheRepairSweeper>().RepairReplayAsync(Db, claim, uncancellable);
                    return new Completed<TResponse>(JsonSerializer.Deserialize<TResponse>(completed.Response, Json.Options)!, Replayed: true);
                case ClaimOutcome.Refused refused:
                    await transaction.RollbackAsync(uncancellable);
                    return refused.Error;
            }
        }

        var result = await operation.HandleAsync(request, call.Caller, cancellationToken);
        if (!result.IsSuccess && result.Error.KeepsChanges && hooks.HasBeforeCommit)
        {
            // The claim would be forgotten and the money moved: a retry with the same key would move it again.
            throw new InvalidOperationException($"{OperationName(operation)} staged a before-commit write (money) and failed keeping its changes");
        }

        if (!result.IsSuccess && !result.Error.KeepsChanges)
        {
            // Failed: nothing it staged, and no idempotency record, survives; a corrected retry runs afresh.
            await transaction.RollbackAsync(uncancellable);
            Reset();
            return result.Error;
        }

        if (claim is not null)
        {
            // The response rides with the handler's writes (no round trip of its own): in the money's command when
            // the transaction ends with one, else in the SaveChanges batch. A failure that keeps its changes must
            // not keep the claim: a record always holds a response to replay.
            if (result.IsSuccess)
            {
                var response = JsonSerializer.Serialize(result.Value, Json.Options);
                if (hooks.HasBeforeCommit)
                {
                    // The transaction ends with a hand-written write (a money movement): the response rides in it.
                    hooks.AddRider((command, sql) => IdempotencyStore.AppendResponse(command, sql, claim, response));
                }
                else
                {
                    IdempotencyStore.StageResponse(Db, claim, response);
                }
            }
            else
            {
                await IdempotencyStore.ForgetAsync(Db, claim, cancellationToken);
            }
        }

        // The keys the after-commit steps will write, recorded in the transaction for the case this node dies first.
        Journal.Stage(Db, hooks, claim);
        await Db.SaveChangesAsync(cancellationToken);
        if (await hooks.RunBeforeCommitAsync(cancellationToken) is { } lastWriteRefused)
        {
            // A last write refused (an account without the funds): nothing of the operation survives.
            await transaction.RollbackAsync(uncancellable);
            Reset();
            return lastWriteRefused;
        }

        if (hooks.HasRiders)
        {
            // A before-commit write that sends no command must not be registered; committing now would lose the riders.
            throw new InvalidOperationException("A before-commit write did not carry the riders (CommitHooks.AppendRiders)");
        }

        await transaction.CommitAsync(uncancellable);
        // Leases first (an account's turn in the queue): the next movement can start while this one's cache writes run.
        hooks.EndTransaction();
        await hooks.RunAfterCommitAsync();
        Journal.Completed();
        return result.IsSuccess ? new Completed<TResponse>(result.Value, false) : result.Error;
    }

    private void Reset()
    {
        _db?.ChangeTracker.Clear();
        hooks.Discard();
        Journal.Reset();
    }

    internal static string OperationName(object operation) => operation.GetType().Name;

    /// <summary>FluentValidation names properties in PascalCase; the wire is camelCase.</summary>
    private static string JsonFieldName(string propertyName) =>
        string.Join('.', propertyName.Split('.').Select(p => p.Length == 0 ? p : char.ToLowerInvariant(p[0]) + p[1..]));
}
