using Groundwork.Platform.Auth;
using Groundwork.Platform.Persistence;
using Microsoft.EntityFrameworkCore;

namespace Groundwork.Features.Users;

/// <summary>
/// The start-up hint that no admin exists yet. A hint, not a precondition: it runs beside the start (its query is
/// the first one EF compiles, most of a second on a slow machine) instead of in front of readiness.
/// </summary>
internal static class FirstAdminHint
{
    public static Task StartAsync(IServiceProvider services, CancellationToken cancellationToken)
    {
        _ = Task.Run(() => PrintIfNeededAsync(services, cancellationToken), cancellationToken);
        return Task.CompletedTask;
    }

    private static async Task PrintIfNeededAsync(IServiceProvider services, CancellationToken cancellationToken)
    {
        var logger = services.GetRequiredService<ILoggerFactory>().CreateLogger("Groundwork");
        try
        {
            await using var scope = services.CreateAsyncScope();
            var db = scope.ServiceProvider.GetRequiredService<GroundworkDbContext>();
            if (await db.Users.AnyAsync(u => u.Role == Role.Admin, cancellationToken))
            {
                return;
            }

            logger.LogWarning("No admin exists yet. Create one with: GROUNDWORK_ADMIN_PASSWORD='<password>' dotnet run --project src/Groundwork -- create-admin --email <email> --name <name>");
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            // A database fault shows in the readiness check and the requests' own logs; the hint stays quiet.
            logger.LogDebug(e, "Could not check whether an admin exists");
        }
    }
}
