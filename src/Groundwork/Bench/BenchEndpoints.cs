using Groundwork.Features.Users;
using Groundwork.Platform.Auth;
using Groundwork.Platform.Configuration;
using Groundwork.Platform.Http;
using Groundwork.Platform.Operations;
using Microsoft.AspNetCore.Mvc;
using Npgsql;

namespace Groundwork.Bench;

/// <summary>
/// Baselines for bench/run.sh, mapped only with <c>Groundwork:Bench:Enabled=true</c> (allowed only in the Benchmark and Testing environments):
/// the same user JSON from memory, and the users list query on raw Npgsql. Ratios against these, measured in
/// the same process and run, are what the quality bars compare (bench/README.md).
/// </summary>
public static class BenchEndpoints
{
    public static void MapBenchBaselines(this IEndpointRouteBuilder app, GroundworkSettings settings)
    {
        ArgumentNullException.ThrowIfNull(settings);
        var bench = app.MapGroup("/bench").AllowAnonymous().ExcludeFromDescription()
            // The baselines skip auth and limits by design, so only the benchmark on this machine may call them.
            .AddEndpointFilter((context, next) =>
                context.HttpContext.Connection.RemoteIpAddress is { } ip && System.Net.IPAddress.IsLoopback(ip)
                    ? next(context)
                    : ValueTask.FromResult<object?>(Error.NotFound("Route").ToResult()));
        var now = DateTime.UtcNow;
        var user = new UserDto(Guid.CreateVersion7(), "bench@example.com", "Bench User", Role.User, now, now);
        bench.MapGet("/bare-user", () => Rest.Data(user));
        bench.MapGet("/cache-stats", ([FromServices] Platform.Caching.CacheStats stats) => new CacheCounts(stats.Hits, stats.RedisHits, stats.Misses, stats.Errors));

        if (settings.Provider == DatabaseProvider.Postgres)
        {
            // The same pool settings as the service's own (prepared statements, no reset on return): a fair baseline.
            var dataSource = NpgsqlDataSource.Create(Platform.Persistence.DatabaseSetup.TunePostgres(settings.ConnectionString));
            var wakeRelay = app.ServiceProvider.GetRequiredService<Platform.Messaging.OutboxSignal>();
            async Task<List<UserDto>> FirstPageAsync(CancellationToken ct)
            {
                await using var command = dataSource.CreateCommand(
                    "SELECT id, email, name, role, created_at, updated_at FROM users WHERE deleted_at IS NULL " +
                    "ORDER BY created_at DESC, id DESC LIMIT 20 OFFSET 0");
                var items = new List<UserDto>(20);
                await using var reader = await command.ExecuteReaderAsync(ct);
                while (await reader.ReadAsync(ct))
                {
                    Roles.TryParse(reader.GetString(3), out var role);
                    items.Add(new UserDto(reader.GetGuid(0), reader.GetString(1), reader.GetString(2), role,
                        DateTime.SpecifyKind(reader.GetDateTime(4), DateTimeKind.Utc), DateTime.SpecifyKind(reader.GetDateTime(5), DateTimeKind.Utc)));
                }

                return items;
            }

            // The count and the page, every request.
            bench.MapGet("/raw-users", async (HttpContext http) =>
            {
                await using var countCommand = dataSource.CreateCommand("SELECT count(*) FROM users WHERE deleted_at IS NULL");
                var total = Convert.ToInt32(await countCommand.ExecuteScalarAsync(http.RequestAborted), System.Globalization.CultureInfo.InvariantCulture);
                return Rest.Page(http, new Platform.Operations.PagedList<UserDto>(await FirstPageAsync(http.RequestAborted), 1, 20, total));
            });

            // The page alone, as Groundwork runs it per request once the list's total is cached.
            bench.MapGet("/raw-users-page", async (HttpContext http) =>
                Rest.Page(http, new Platform.Operations.PagedList<UserDto>(await FirstPageAsync(http.RequestAborted), 1, 20, 10_001)));

            // The same writes a transfer makes (the idempotency claim, two conditional balance updates in id order, the
            // transaction row, two entries, three outbox rows, the idempotency response) in the same round trips as the
            // service (ADR 0020): the claim, then one batch with everything else, then the commit. No pipeline, no auth:
            // the efficient way to do the same work.
            // The same again, queued per account as the service queues money movements (ADR 0018), at the same point:
            // after the claim, just before the batch that locks the accounts.
            bench.MapPost("/raw-transfer", (HttpContext http, RawTransfer body) => RawTransferAsync(http, body, queue: null));
            bench.MapPost("/raw-transfer-queued", (HttpContext http, RawTransfer body, [FromServices] Features.Ledger.AccountQueue queue) => RawTransferAsync(http, body, queue));

            async Task<IResult> RawTransferAsync(HttpContext http, RawTransfer body, Features.Ledger.AccountQueue? queue)
            {
                var ct = http.RequestAborted;
                var key = Guid.NewGuid().ToString();
                var now = DateTime.UtcNow;
                await using var connection = await dataSource.OpenConnectionAsync(ct);
                await using var tx = await connection.BeginTransactionAsync(ct);
                await using (var claim = new NpgsqlBatch(connection, tx)
                {
                    BatchCommands =
                    {
                        Command("INSERT INTO idempotency_records (principal, key, operation, fingerprint, response, created_at, expires_at) VALUES ('bench', @p0, 'transfers.create', 'bench', NULL, @p1, @p2) ON CONFLICT DO NOTHING",
                            key, now, now.AddHours(24)),
                    },
                })
                {
                    await claim.ExecuteNonQueryAsync(ct);
                }

                using var turn = queue is null ? null : await queue.EnterAsync(body.FromAccountId, body.ToAccountId, ct);
                var txId = Guid.CreateVersion7();
                var legs = new[] { (Id: body.FromAccountId, Delta: -body.Amount), (Id: body.ToAccountId, Delta: body.Amount) }.OrderBy(l => l.Id).ToArray();
                const string update = "UPDATE accounts SET balance = balance + @p0, version = version + 1 WHERE id = @p1 AND (@p0 > 0 OR balance + @p0 >= 0) RETURNING balance, version";
                await using var batch = new NpgsqlBatch(connection, tx)
                {
                    BatchCommands =
                    {
                        Command(update, legs[0].Delta, legs[0].Id),
                        Command(update, legs[1].Delta, legs[1].Id),
                        Command("INSERT INTO ledger_transactions (id, type, amount, currency, from_account_id, to_account_id, created_at) VALUES (@p0, 'transfer', @p1, 'EUR', @p2, @p3, @p4)", txId, body.Amount, body.FromAccountId, body.ToAccountId, now),
                        Command("INSERT INTO ledger_entries (transaction_id, account_id, amount, created_at) VALUES (@p0, @p1, @p2, @p3)", txId, body.FromAccountId, -body.Amount, now),
                        Command("INSERT INTO ledger_entries (transaction_id, account_id, amount, created_at) VALUES (@p0, @p1, @p2, @p3)", txId, body.ToAccountId, body.Amount, now),
                        Command("INSERT INTO outbox (id, type, occurred_at, subject, data) VALUES (@p0, 'transfer.completed', @p1, @p2, '{}')", Guid.CreateVersion7(), now, txId),
                        Command("INSERT INTO outbox (id, type, occurred_at, subject, data) VALUES (@p0, 'account.debited', @p1, @p2, '{}')", Guid.CreateVersion7(), now, body.FromAccountId),
                        Command("INSERT INTO outbox (id, type, occurred_at, subject, data) VALUES (@p0, 'account.credited', @p1, @p2, '{}')", Guid.CreateVersion7(), now, body.ToAccountId),
                        Command("UPDATE idempotency_records SET response = '{}' WHERE principal = 'bench' AND key = @p0", key),
                    },
                };
                var updated = true;
                await using (var reader = await batch.ExecuteReaderAsync(ct))
                {
                    for (var i = 0; i < legs.Length; i++)
                    {
                        updated &= (i == 0 || await reader.NextResultAsync(ct)) && await reader.ReadAsync(ct);
                    }
                }

                if (!updated)
                {
                    await tx.RollbackAsync(ct);
                    return Results.StatusCode(422);
                }

                await tx.CommitAsync(ct);
                // The service's commits wake the relay (its events leave within the relay's batch window, not at its
                // next poll): the baseline's events leave the same way, so the relay does the same work for both.
                wakeRelay.Raise();
                return Results.Created($"/api/v1/transfers/{txId}", new { data = new { id = txId } });
            }
        }
    }

    private static NpgsqlBatchCommand Command(string sql, params object[] values)
    {
        var command = new NpgsqlBatchCommand(sql);
        for (var i = 0; i < values.Length; i++)
        {
            command.Parameters.AddWithValue($"p{i}", values[i]);
        }

        return command;
    }

    public sealed record RawTransfer(Guid FromAccountId, Guid ToAccountId, long Amount);

    /// <summary>Named, not anonymous, so the endpoint is generated at compile time (ADR 0023).</summary>
    public sealed record CacheCounts(long Hits, long RedisHits, long Misses, long Errors);
}
