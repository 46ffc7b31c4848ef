using System.Collections.Concurrent;
using Groundwork.Platform.Http;
using Groundwork.Tests.Infrastructure;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.AspNetCore.TestHost;
using Microsoft.Extensions.Logging;

namespace Groundwork.Tests.Platform;

/// <summary>
/// A client that closes its connection in the middle of its request body (load generators do it at the end of a
/// run, as do phones losing signal) makes Kestrel throw "Unexpected end of request content" and abort the request
/// at once. That is the client's doing: the error handling must not log it as a server error. It did, twice, when
/// writing the 400 to the gone client threw: "An exception was thrown attempting to execute the error handler", then
/// the original exception as unhandled.
/// </summary>
public sealed class ClientGoneTests
{
    [Fact]
    public async Task A_client_that_left_mid_body_is_not_logged_as_a_server_error()
    {
        var logs = new WarningLogCapture();
        await using var app = await StartAsync(logs, clientLeaves: true);
        using var client = app.GetTestClient();

        using var response = await client.PostAsync(new Uri("/body", UriKind.Relative), new StringContent("{\"query\":"));

        Assert.Empty(logs.Entries);
    }

    [Fact]
    public async Task A_client_still_there_gets_the_400_envelope_for_a_cut_body()
    {
        var logs = new WarningLogCapture();
        await using var app = await StartAsync(logs, clientLeaves: false);
        using var client = app.GetTestClient();

        using var response = await client.PostAsync(new Uri("/body", UriKind.Relative), new StringContent("{\"query\":"));

        var body = await response.AssertStatus(400);
        Assert.Equal("VALIDATION_ERROR", body["error"]!["code"]!.GetValue<string>());
        Assert.Empty(logs.Entries);
    }

    /// <summary>The error handling alone, in front of an endpoint that fails the way Kestrel does when a body is cut.</summary>
    private static async Task<WebApplication> StartAsync(WarningLogCapture logs, bool clientLeaves)
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.WebHost.UseTestServer();
        builder.Logging.ClearProviders();
        builder.Logging.AddProvider(logs);
        var app = builder.Build();
        app.UseGroundworkErrorHandling();
        app.Run(context =>
        {
            if (clientLeaves)
            {
                // Kestrel aborts the request once it sees the connection closed: after the exception handler has
                // decided the request was not aborted (it would have given up quietly), while it writes the 400.
                var gone = new CancellationTokenSource();
                context.Response.RegisterForDispose(gone);
                context.Features.Get<IHttpRequestLifetimeFeature>()!.RequestAborted = gone.Token;
                context.Response.OnStarting(() => gone.CancelAsync());
            }

            throw new BadHttpRequestException("Unexpected end of request content.", StatusCodes.Status400BadRequest);
        });
        await app.StartAsync(TestContext.Current.CancellationToken);
        return app;
    }

    private sealed class WarningLogCapture : ILoggerProvider
    {
        public ConcurrentQueue<string> Entries { get; } = new();

        public ILogger CreateLogger(string categoryName) => new Logger(this, categoryName);

        public void Dispose()
        {
        }

        private sealed class Logger(WarningLogCapture capture, string category) : ILogger
        {
            public IDisposable? BeginScope<TState>(TState state)
                where TState : notnull => null;

            public bool IsEnabled(LogLevel logLevel) => logLevel >= LogLevel.Warning;

            public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
            {
                if (IsEnabled(logLevel))
                {
                    capture.Entries.Enqueue($"{logLevel} [{category}] {formatter(state, exception)} {exception?.GetType().Name}");
                }
            }
        }
    }
}
