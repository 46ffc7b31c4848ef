using FluentValidation;
using Groundwork.Platform.Persistence;
using Microsoft.EntityFrameworkCore;

namespace Groundwork.Platform.Operations;

/// <summary>
/// Marks an operation whose handler must run inside one database transaction (money, state changes with
/// events). The pipeline opens it, retries it on serialization failures and deadlocks, and commits it.
/// </summary>
public interface ITransactionalOperation;

/// <summary>
/// The one path every transport takes into the application: authorize, validate, (transaction → handle →
/// before-commit hook → commit). Keeping this in one place is what makes REST, GraphQL and gRPC agree.
/// </summary>
public sealed class OperationPipeline(IServiceProvider services, GroundworkDbContext db, ILogger<OperationPipeline> logger)
{
    private const int MaxAttempts = 5;

    /// <param name="beforeCommit">
    /// Runs inside the transaction after the handler succeeded, before commit (the transport records its
    /// idempotent response here, so record and change commit together). Forces a transaction.
    /// </param>
    public async Task<Result<TResponse>> RunAsync<TRequest, TResponse>(
        IOperation<TRequest, TResponse> operation,
        TRequest request,
        Caller caller,
        CancellationToken cancellationToken,
        Func<TResponse, GroundworkDbContext, CancellationToken, Task>? beforeCommit = null)
    {
        ArgumentNullException.ThrowIfNull(operation);
        if (operation.Policy.Check(caller) is { } denied)
        {
            return denied;
        }

        if (services.GetService(typeof(IValidator<TRequest>)) is IValidator<TRequest> validator)
        {
            var validation = await validator.ValidateAsync(request, cancellationToken);
            if (!validation.IsValid)
            {
                return Error.Validation(validation.Errors
                    .Select(e => new FieldError(JsonFieldName(e.PropertyName), e.ErrorMessage))
                    .ToList());
            }
        }

        if (operation is not ITransactionalOperation && beforeCommit is null)
        {
            return await operation.HandleAsync(request, caller, cancellationToken);
        }

        for (var attempt = 1; ; attempt++)
        {
            try
            {
                return await RunInTransactionAsync(operation, request, caller, beforeCommit, cancellationToken);
            }
            catch (DbUpdateConcurrencyException)
            {
                // An optimistic concurrency token (Version) changed under us: the caller must re-read.
                db.ChangeTracker.Clear();
                return Error.Conflict("The resource was changed concurrently; reload it and retry", ConflictKind.Concurrency);
            }
            catch (Exception e) when (attempt < MaxAttempts && DbErrors.IsRetryable(e))
            {
                // Serialization failure or deadlock: nothing was committed; run the whole operation again.
                logger.LogInformation("Retrying {Operation} after a transient database conflict (attempt {Attempt})", operation.GetType().Name, attempt);
                db.ChangeTracker.Clear();
                await Task.Delay(Random.Shared.Next(5, 20 * attempt), cancellationToken);
            }
        }
    }

    private async Task<Result<TResponse>> RunInTransactionAsync<TRequest, TResponse>(
        IOperation<TRequest, TResponse> operation,
        TRequest request,
        Caller caller,
        Func<TResponse, GroundworkDbContext, CancellationToken, Task>? beforeCommit,
        CancellationToken cancellationToken)
    {
        await using var transaction = await db.Database.BeginTransactionAsync(cancellationToken);
        var result = await operation.HandleAsync(request, caller, cancellationToken);
        if (!result.IsSuccess)
        {
            await transaction.RollbackAsync(cancellationToken);
            db.ChangeTracker.Clear();
            return result;
        }

        await db.SaveChangesAsync(cancellationToken);
        if (beforeCommit is not null)
        {
            await beforeCommit(result.Value, db, cancellationToken);
        }

        await transaction.CommitAsync(cancellationToken);
        return result;
    }

    /// <summary>FluentValidation names properties in PascalCase; the wire is camelCase.</summary>
    private static string JsonFieldName(string propertyName) =>
        string.Join('.', propertyName.Split('.').Select(p => p.Length == 0 ? p : char.ToLowerInvariant(p[0]) + p[1..]));
}
