using Groundwork.Platform.Auth;
using Groundwork.Platform.Hosting;
using Groundwork.Platform.Persistence;
using Microsoft.EntityFrameworkCore;

namespace Groundwork.Features.Users;

/// <summary>
/// The start-up hint that no admin exists yet. A hint, not a precondition: it runs beside the start (its query is
/// the first one EF compiles, most of a second on a slow machine) instead of in front of readiness.
/// </summary>
internal static class FirstAdminHint
{
    /// <summary>Starts the check and returns at once; it stops with the application.</summary>
    public static void Start(IServiceProvider services)
    {
        var stopping = services.GetRequiredService<IHostApplicationLifetime>().ApplicationStopping;
        _ = Task.Run(() => PrintIfNeededAsync(services, stopping), stopping);
    }

    private static async Task PrintIfNeededAsync(IServiceProvider services, CancellationToken stopping)
    {
        // The service's own work, not a request's: the statement-count tests tell the two apart by this mark.
        using var background = BackgroundWork.Begin("first-admin-hint");
        var logger = services.GetRequiredService<ILoggerFactory>().CreateLogger("Groundwork");
        try
        {
            await using var scope = services.CreateAsyncScope();
            var db = scope.ServiceProvider.GetRequiredService<GroundworkDbContext>();
            if (await db.Users.AnyAsync(u => u.Role == Role.Admin, stopping))
            {
                return;
            }

            logger.LogWarning("No admin exists yet. Create one with: GROUNDWORK_ADMIN_PASSWORD='<password>' dotnet run --project src/Groundwork -- create-admin --email <email> --name <name>");
        }
        catch (Exception e) when (!stopping.IsCancellationRequested)
        {
            logger.LogWarning(e, "Could not check whether an admin exists");
        }
        catch (Exception)
        {
            // Stopped while checking (the services may be disposed already): nothing to say.
        }
    }
}
