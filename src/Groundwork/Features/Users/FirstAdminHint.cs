using Groundwork.Platform.Auth;
using Groundwork.Platform.Persistence;
using Microsoft.EntityFrameworkCore;

namespace Groundwork.Features.Users;

internal static class FirstAdminHint
{
    public static async Task PrintIfNeededAsync(IServiceProvider services, CancellationToken cancellationToken)
    {
        await using var scope = services.CreateAsyncScope();
        var db = scope.ServiceProvider.GetRequiredService<GroundworkDbContext>();
        if (await db.Users.AnyAsync(u => u.Role == Role.Admin, cancellationToken))
        {
            return;
        }

        scope.ServiceProvider.GetRequiredService<ILoggerFactory>().CreateLogger("Groundwork")
            .LogWarning("No admin exists yet. Create one with: GROUNDWORK_ADMIN_PASSWORD='<password>' dotnet run --project src/Groundwork -- create-admin --email <email> --name <name>");
    }
}
