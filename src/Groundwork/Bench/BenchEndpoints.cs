using Groundwork.Features.Users;
using Groundwork.Platform.Auth;
using Groundwork.Platform.Configuration;
using Groundwork.Platform.Http;
using Npgsql;

namespace Groundwork.Bench;

/// <summary>
/// Baselines for bench/run.sh, mapped only with <c>Groundwork:Bench:Enabled=true</c> (refused in Production):
/// the same user JSON from memory, and the users list query on raw Npgsql. Ratios against these, measured in
/// the same process and run, are what the quality bars of SPEC §14 compare.
/// </summary>
public static class BenchEndpoints
{
    public static void MapBenchBaselines(this IEndpointRouteBuilder app, GroundworkSettings settings)
    {
        ArgumentNullException.ThrowIfNull(settings);
        var bench = app.MapGroup("/bench").AllowAnonymous().ExcludeFromDescription();
        var now = DateTime.UtcNow;
        var user = new UserDto(Guid.CreateVersion7(), "bench@example.com", "Bench User", Role.User, now, now);
        bench.MapGet("/bare-user", () => Rest.Data(user));

        if (settings.Provider == DatabaseProvider.Postgres)
        {
            var dataSource = NpgsqlDataSource.Create(settings.ConnectionString);
            bench.MapGet("/raw-users", async (HttpContext http) =>
            {
                await using var command = dataSource.CreateCommand(
                    "SELECT id, email, name, role, created_at, updated_at FROM users WHERE deleted_at IS NULL " +
                    "ORDER BY created_at DESC, id DESC LIMIT 20 OFFSET 0");
                await using var countCommand = dataSource.CreateCommand("SELECT count(*) FROM users WHERE deleted_at IS NULL");
                var total = Convert.ToInt32(await countCommand.ExecuteScalarAsync(http.RequestAborted), System.Globalization.CultureInfo.InvariantCulture);
                var items = new List<UserDto>(20);
                await using var reader = await command.ExecuteReaderAsync(http.RequestAborted);
                while (await reader.ReadAsync(http.RequestAborted))
                {
                    Roles.TryParse(reader.GetString(3), out var role);
                    items.Add(new UserDto(reader.GetGuid(0), reader.GetString(1), reader.GetString(2), role,
                        DateTime.SpecifyKind(reader.GetDateTime(4), DateTimeKind.Utc), DateTime.SpecifyKind(reader.GetDateTime(5), DateTimeKind.Utc)));
                }

                return Rest.Page(http, new Platform.Operations.PagedList<UserDto>(items, 1, 20, total));
            });
        }
    }
}
