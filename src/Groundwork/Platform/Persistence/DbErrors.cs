using Microsoft.Data.Sqlite;
using Microsoft.EntityFrameworkCore;
using Npgsql;

namespace Groundwork.Platform.Persistence;

public static class DbErrors
{
    /// <summary>A unique index refused the write: the loser of a race for the same email, key, etc.</summary>
    public static bool IsUniqueViolation(DbUpdateException exception) => exception?.InnerException switch
    {
        PostgresException pg => pg.SqlState == PostgresErrorCodes.UniqueViolation,
        SqliteException sqlite => sqlite.SqliteExtendedErrorCode is 2067 or 1555,
        _ => false,
    };

    /// <summary>
    /// Database refusals that are answers, not faults: a unique index lost a race (409, already exists), an
    /// optimistic concurrency token changed (409, re-read and retry). Null for anything else.
    /// </summary>
    public static Operations.Error? Classify(Exception exception) => exception switch
    {
        DbUpdateConcurrencyException => Operations.Error.Conflict("The resource was changed concurrently; reload it and retry", Operations.ConflictKind.Concurrency),
        DbUpdateException update when IsUniqueViolation(update) => Operations.Error.Conflict("It already exists", Operations.ConflictKind.Duplicate),
        _ => null,
    };

    /// <summary>A conflict that a fresh attempt of the whole transaction can succeed past.</summary>
    public static bool IsRetryable(Exception exception) => Unwrap(exception) switch
    {
        PostgresException pg => pg.SqlState is PostgresErrorCodes.SerializationFailure or PostgresErrorCodes.DeadlockDetected,
        SqliteException sqlite => sqlite.SqliteErrorCode is 5 or 6, // SQLITE_BUSY, SQLITE_LOCKED
        _ => false,
    };

    private static Exception Unwrap(Exception exception) =>
        exception is DbUpdateException or InvalidOperationException && exception.InnerException is { } inner ? Unwrap(inner) : exception;
}
