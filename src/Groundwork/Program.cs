using Groundwork.App;
using Groundwork.Platform.Configuration;
using Groundwork.Platform.Hosting;

// Same executable, two faces: with an admin command it runs that and exits; otherwise it serves.
var command = args.Length > 0 && AdminCommands.Names.Contains(args[0]) ? args[0] : null;
var hostArgs = command is null ? args : [];

try
{
    // Settings are read once, at start: no file watcher over the content root (a recursive inotify watch, woken by
    // every write beneath it, a SQLite database in ./data among them). An operator's own argument still wins.
    // The slim builder leaves out what the service never uses (IIS, HTTP/3 over QUIC, hosting-startup assemblies,
    // regex route constraints) and their assemblies stay unloaded; HTTPS endpoints are added back below.
    var builder = WebApplication.CreateSlimBuilder(["--hostBuilder:reloadConfigOnChange=false", .. hostArgs]);
    builder.WebHost.UseKestrelHttpsConfiguration();
    builder.AddGroundwork(FeatureModules.All);
    if (command == "doctor")
    {
        // The doctor prints its own one-line verdicts; the health checks' and EF's logs would say the same again as JSON.
        builder.Logging.AddFilter("Microsoft.Extensions.Diagnostics.HealthChecks", LogLevel.None);
        builder.Logging.AddFilter("Microsoft.EntityFrameworkCore", LogLevel.None);
    }

    var app = builder.Build();

    if (command is not null)
    {
        return await AdminCommands.RunAsync(app, command, args[1..], Console.In, Console.Out, Console.Error);
    }

    app.UseGroundwork();
    await app.PrepareAsync(CancellationToken.None);
    await using (app)
    {
        try
        {
            await app.StartAsync();
        }
        catch
        {
            // Stopped before it is disposed, so the background services that had started end as stopped: disposed
            // alone, the host reports each one cancelled that way as "BackgroundService failed".
            await app.StopAsync();
            throw;
        }

        await app.WaitForShutdownAsync();
    }

    return 0;
}
catch (ConfigurationException e)
{
    // One clear line naming the key, and a non-zero exit code.
    await Console.Error.WriteLineAsync(e.Message);
    return 2;
}
catch (Exception e) when (e is System.Net.Sockets.SocketException
    || e is IOException { InnerException: System.Net.Sockets.SocketException or Microsoft.AspNetCore.Connections.AddressInUseException or AggregateException })
{
    // An address that cannot be listened on: in use (Kestrel's message names it), not on this machine, or a port
    // below 1024 without the right. Left unhandled, the runtime would abort the process (exit 134, a core dump where
    // they are on) with the same message under a stack trace; the log has the details either way.
    await Console.Error.WriteLineAsync($"Could not start: {e.Message}");
    return 1;
}

/// <summary>Entry point, public so WebApplicationFactory can host it in tests.</summary>
public partial class Program;
