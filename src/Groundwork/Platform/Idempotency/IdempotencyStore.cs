using System.Data.Common;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using Groundwork.Platform.Http;
using Groundwork.Platform.Operations;
using Groundwork.Platform.Persistence;
using Microsoft.EntityFrameworkCore;

namespace Groundwork.Platform.Idempotency;

/// <summary>Which record a keyed request claims: who, which key, which operation, and what it asked.</summary>
public sealed record IdempotencyClaim(string Principal, string Key, string Operation, string Fingerprint)
{
    public const int MaxKeyLength = 255;

    /// <summary>The key rule of docs/api/limits.md (1–255 printable characters), reported under the transport's field name.</summary>
    public static Error? ValidateKey(string key, string field) =>
        key.Length is 0 or > MaxKeyLength || key.Any(char.IsControl) || !TextSafety.IsSafe(key)
            ? Error.Validation(field, "Must be 1 to 255 printable characters")
            : null;

    /// <summary>
    /// The request's fingerprint is its canonical JSON, hashed: the same content sent over REST, GraphQL or gRPC
    /// is the same request, and whitespace or property order in a body changes nothing.
    /// </summary>
    public static IdempotencyClaim For<TRequest>(Caller caller, string key, string operation, TRequest request)
    {
        ArgumentNullException.ThrowIfNull(caller);
        var fingerprint = Convert.ToHexStringLower(SHA256.HashData(JsonSerializer.SerializeToUtf8Bytes(request, FingerprintOptions)));
        return new IdempotencyClaim(caller.PrincipalKey, key, operation, fingerprint);
    }

    /// <summary>The wire options, minus <see cref="SecretAttribute"/> properties (a stored hash must not reveal a password).</summary>
    private static readonly JsonSerializerOptions FingerprintOptions = new(Json.Options)
    {
        TypeInfoResolver = new System.Text.Json.Serialization.Metadata.DefaultJsonTypeInfoResolver
        {
            Modifiers =
            {
                info =>
                {
                    foreach (var property in info.Properties)
                    {
                        if (property.AttributeProvider?.IsDefined(typeof(SecretAttribute), inherit: true) == true)
                        {
                            property.ShouldSerialize = (_, _) => false;
                        }
                    }
                },
            },
        },
    };
}

/// <summary>The outcome of claiming inside the business transaction: ours to run, or someone's completed record.</summary>
public abstract record ClaimOutcome
{
    public sealed record Claimed : ClaimOutcome;
    public sealed record Completed(string Response) : ClaimOutcome;
    public sealed record Refused(Error Error) : ClaimOutcome;
}

/// <summary>
/// Stripe-style idempotency inside the operation's own transaction (docs/adr/0005-idempotency.md). The claim is an
/// insert that a concurrent twin blocks on (the row's key is locked until the first transaction ends): if the first
/// commits, the twin finds its record and replays it; if it rolls back or dies, the twin's insert goes through and
/// it runs. Nothing committed is ever half-done, so no claim outlives a crash.
/// </summary>
public sealed class IdempotencyStore(TimeProvider clock)
{
    public static readonly TimeSpan Retention = TimeSpan.FromHours(24);

    /// <summary>How long a retry waits for its running twin before answering 409 (PostgreSQL; SQLite waits its busy timeout).</summary>
    public static readonly TimeSpan WaitForTwin = TimeSpan.FromSeconds(5);

    /// <param name="keyField">Where the key came from (header, argument, metadata), to name it in a refusal.</param>
    public async Task<ClaimOutcome> ClaimAsync(GroundworkDbContext db, IdempotencyClaim claim, string keyField, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(db);
        ArgumentNullException.ThrowIfNull(claim);
        var now = clock.GetUtcNow().UtcDateTime;
        for (var attempt = 0; attempt < 2; attempt++)
        {
            try
            {
                if (await InsertAsync(db, claim, now, cancellationToken) == 1)
                {
                    return new ClaimOutcome.Claimed();
                }
            }
            catch (Npgsql.PostgresException e) when (e.SqlState == "55P03")
            {
                // lock_not_available: the twin holding this key did not finish within the wait.
                return new ClaimOutcome.Refused(InFlight);
            }

            // Someone holds the key and has committed (a running twin would still be blocking the insert).
            var existing = await db.IdempotencyRecords.AsNoTracking()
                .FirstOrDefaultAsync(r => r.Principal == claim.Principal && r.Key == claim.Key, cancellationToken);
            if (existing is null)
            {
                continue; // reaped between the two statements: claim again
            }

            if (existing.ExpiresAt <= now)
            {
                await db.IdempotencyRecords.Where(r => r.Principal == claim.Principal && r.Key == claim.Key && r.ExpiresAt <= now)
                    .ExecuteDeleteAsync(cancellationToken);
                continue;
            }

            if (existing.Operation != claim.Operation || existing.Fingerprint != claim.Fingerprint)
            {
                return new ClaimOutcome.Refused(new Error(ErrorCode.IdempotencyKeyReused,
                    "This idempotency key was used for a different request",
                    [new FieldError(keyField, "Already used with another operation or other content")]));
            }

            return new ClaimOutcome.Completed(existing.Response!);
        }

        return new ClaimOutcome.Refused(InFlight);
    }

    /// <summary>
    /// Stages the response on the claimed record: the next SaveChanges writes it in the same batch (and
    /// transaction) as the change, so completing a key costs no round trip of its own.
    /// </summary>
    public static void StageResponse(GroundworkDbContext db, IdempotencyClaim claim, string response)
    {
        ArgumentNullException.ThrowIfNull(db);
        ArgumentNullException.ThrowIfNull(claim);
        var entry = db.IdempotencyRecords.Attach(new IdempotencyRecord
        {
            Principal = claim.Principal,
            Key = claim.Key,
            Operation = claim.Operation,
            Fingerprint = claim.Fingerprint,
        });
        entry.Entity.Response = response;
        entry.Property(r => r.Response).IsModified = true;
    }

    /// <summary>
    /// Appends the statement that stores the response on the claimed record to a hand-written command in the same
    /// transaction (one that is sent anyway: no round trip of its own, and no EF save). Its row count is not
    /// checked, unlike EF's save: the record was inserted by this transaction's claim, so it exists and is ours.
    /// </summary>
    public static void AppendResponse(DbCommand command, StringBuilder sql, IdempotencyClaim claim, string response)
    {
        ArgumentNullException.ThrowIfNull(command);
        ArgumentNullException.ThrowIfNull(sql);
        ArgumentNullException.ThrowIfNull(claim);
        sql.Append("UPDATE idempotency_records SET response = @idempotency_response WHERE principal = @idempotency_principal AND key = @idempotency_key;\n");
        command.AddParameter("idempotency_response", response);
        command.AddParameter("idempotency_principal", claim.Principal);
        command.AddParameter("idempotency_key", claim.Key);
    }

    /// <summary>Removes the claim inside the transaction (an operation failed but keeps its other changes).</summary>
    public static Task ForgetAsync(GroundworkDbContext db, IdempotencyClaim claim, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(db);
        ArgumentNullException.ThrowIfNull(claim);
        return db.IdempotencyRecords.Where(r => r.Principal == claim.Principal && r.Key == claim.Key).ExecuteDeleteAsync(cancellationToken);
    }

    public static Error InFlight =>
        Error.Conflict("A request with this idempotency key is still in progress; retry later", ConflictKind.Concurrency);

    /// <summary>
    /// Inserts the claim unless the key exists. On PostgreSQL a twin's uncommitted insert makes this wait, at most
    /// <see cref="WaitForTwin"/> (lock_timeout, for this statement only); the wait ends in 1 (the twin rolled back)
    /// or 0 (it committed). Raw SQL because EF Core has no INSERT … ON CONFLICT DO NOTHING, sent as a plain command on
    /// the transaction's connection: it runs once per keyed write, and EF's raw-SQL machinery (parsing the format,
    /// type-mapping each parameter, diagnostics) cost more than the statement.
    /// </summary>
    private static async Task<int> InsertAsync(GroundworkDbContext db, IdempotencyClaim claim, DateTime now, CancellationToken cancellationToken)
    {
        const string insert = """
            INSERT INTO idempotency_records (principal, key, operation, fingerprint, response, created_at, expires_at)
            VALUES (@principal, @key, @operation, @fingerprint, NULL, @created, @expires) ON CONFLICT DO NOTHING
            """;
        var postgres = db.Database.IsNpgsql();
        await using var command = db.CreateCommandInTransaction("A claim is made only inside the pipeline's transaction");
        command.CommandText = postgres
            ? $"SET LOCAL lock_timeout = '{(int)WaitForTwin.TotalMilliseconds}ms'; {insert}; SET LOCAL lock_timeout TO DEFAULT"
            : insert;
        command.AddParameter("principal", claim.Principal);
        command.AddParameter("key", claim.Key);
        command.AddParameter("operation", claim.Operation);
        command.AddParameter("fingerprint", claim.Fingerprint);
        command.AddParameter("created", now);
        command.AddParameter("expires", now + Retention);
        return await command.ExecuteNonQueryAsync(cancellationToken);
    }
}
