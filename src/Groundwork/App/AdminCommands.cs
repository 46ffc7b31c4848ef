using Groundwork.Features.Users;
using Groundwork.Platform.Auth;
using Groundwork.Platform.GraphQLServer;
using Groundwork.Platform.Persistence;

namespace Groundwork.App;

/// <summary>
/// The admin CLI of the same executable: <c>migrate</c>, <c>create-admin --email E --name N</c> (password from
/// stdin or <c>GROUNDWORK_ADMIN_PASSWORD</c>), <c>rotate-signing-key</c> and <c>doctor</c> (checks configuration and
/// dependencies, one line each).
/// </summary>
public static class AdminCommands
{
    public static readonly IReadOnlySet<string> Names = new HashSet<string>(StringComparer.Ordinal)
    {
        "migrate", "create-admin", "rotate-signing-key", "print-graphql-schema", "doctor",
    };

    public static async Task<int> RunAsync(WebApplication app, string command, IReadOnlyList<string> args, TextReader stdin, TextWriter stdout, TextWriter stderr)
    {
        ArgumentNullException.ThrowIfNull(app);
        ArgumentNullException.ThrowIfNull(args);
        ArgumentNullException.ThrowIfNull(stdin);
        ArgumentNullException.ThrowIfNull(stdout);
        ArgumentNullException.ThrowIfNull(stderr);
        switch (command)
        {
            case "migrate":
                await DatabaseSetup.MigrateAsync(app.Services, CancellationToken.None);
                await stdout.WriteLineAsync("Database migrated.");
                return 0;

            case "rotate-signing-key":
                var kid = app.Services.GetRequiredService<SigningKeyStore>().AddKey();
                await stdout.WriteLineAsync($"Added signing key {kid}; it signs new tokens, older keys keep verifying.");
                return 0;

            case "create-admin":
                return await CreateAdminAsync(app, args, stdin, stdout, stderr);

            case "doctor":
                return await Doctor.RunAsync(app.Services, stdout);

            case "print-graphql-schema":
                // What api/schema.graphql must contain: `dotnet run --project src/Groundwork --no-launch-profile -- print-graphql-schema > api/schema.graphql`.
                await stdout.WriteAsync(app.Services.GetRequiredService<GraphQLExecution>().PrintSchema());
                return 0;

            default:
                await stderr.WriteLineAsync($"Unknown command '{command}'. Commands: {string.Join(", ", Names)}");
                return 64;
        }
    }

    private static async Task<int> CreateAdminAsync(WebApplication app, IReadOnlyList<string> args, TextReader stdin, TextWriter stdout, TextWriter stderr)
    {
        var email = Option(args, "--email");
        var name = Option(args, "--name");
        if (email is null || name is null)
        {
            await stderr.WriteLineAsync("Usage: groundwork create-admin --email E --name N (password from stdin or GROUNDWORK_ADMIN_PASSWORD)");
            return 64;
        }

        var password = Environment.GetEnvironmentVariable("GROUNDWORK_ADMIN_PASSWORD");
        if (string.IsNullOrEmpty(password))
        {
            password = (await stdin.ReadLineAsync())?.TrimEnd('\r', '\n');
        }

        await DatabaseSetup.MigrateAsync(app.Services, CancellationToken.None);
        await using var scope = app.Services.CreateAsyncScope();
        var validator = new CreateUserValidator();
        var request = new CreateUserRequest(email, name, password, Role.Admin);
        var validation = await validator.ValidateAsync(request);
        if (!validation.IsValid)
        {
            foreach (var failure in validation.Errors)
            {
                await stderr.WriteLineAsync($"{failure.PropertyName}: {failure.ErrorMessage}");
            }

            return 65;
        }

        var registration = scope.ServiceProvider.GetRequiredService<UserRegistration>();
        var created = await registration.CreateAsync(email, name,
            await registration.HashPasswordAsync(password!, CancellationToken.None), Role.Admin, CancellationToken.None);
        if (!created.IsSuccess)
        {
            await stderr.WriteLineAsync(created.Error.Message);
            return 65;
        }

        // Not an operation (no caller, no transport): the command saves what the registration staged, then runs its
        // after-commit steps (with Redis, the running nodes' cached user totals go stale; without Redis they live
        // in the server's memory, out of this process's reach, and expire within ten minutes).
        // Like the pipeline, the save carries the cache repair record (ADR 0024), deleted once the steps have run.
        var db = scope.ServiceProvider.GetRequiredService<GroundworkDbContext>();
        var hooks = scope.ServiceProvider.GetRequiredService<Platform.Operations.CommitHooks>();
        var journal = scope.ServiceProvider.GetRequiredService<Platform.Caching.CacheRepairJournal>();
        journal.Stage(db, hooks, claim: null);
        await db.SaveChangesAsync(CancellationToken.None);
        if (scope.ServiceProvider.GetService<Platform.Redis.RedisConnection>() is { } redis)
        {
            // The connection opens in the background: wait for it (briefly), or the invalidation would only be
            // remembered by this short-lived process.
            try
            {
                await redis.DatabaseAsync().WaitAsync(TimeSpan.FromSeconds(5));
            }
            catch (Exception e) when (e is TimeoutException or StackExchange.Redis.RedisException)
            {
                await stderr.WriteLineAsync("Redis is unreachable: running nodes may count the new admin in user totals only after ten minutes.");
            }
        }

        await hooks.RunAfterCommitAsync();
        journal.Completed();
        await scope.ServiceProvider.GetRequiredService<Platform.Caching.CacheRepairSweeper>().DeleteCompletedAsync(CancellationToken.None);

        await stdout.WriteLineAsync($"Created admin {created.Value.Email} ({created.Value.Id}).");
        return 0;
    }

    private static string? Option(IReadOnlyList<string> args, string name)
    {
        for (var i = 0; i < args.Count; i++)
        {
            if (args[i] == name && i + 1 < args.Count)
            {
                return args[i + 1];
            }

            if (args[i].StartsWith(name + "=", StringComparison.Ordinal))
            {
                return args[i][(name.Length + 1)..];
            }
        }

        return null;
    }
}
