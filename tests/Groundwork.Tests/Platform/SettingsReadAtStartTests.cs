using Groundwork.Tests.Infrastructure;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.Configuration.Json;
using Microsoft.Extensions.DependencyInjection;

namespace Groundwork.Tests.Platform;

/// <summary>Settings are read once, at start (ADR 0021): no settings file is watched for changes.</summary>
public sealed class SettingsReadAtStartTests(SqliteApp app) : IClassFixture<SqliteApp>
{
    [Fact]
    public void No_settings_file_is_watched_for_changes()
    {
        var configuration = (IConfigurationRoot)app.Services.GetRequiredService<IConfiguration>();
        var files = configuration.Providers.OfType<JsonConfigurationProvider>().Select(p => p.Source).ToList();

        // appsettings.json and appsettings.{Environment}.json: both read, neither reloaded (no file watcher).
        Assert.Contains(files, f => f.Path == "appsettings.json");
        Assert.All(files, f => Assert.False(f.ReloadOnChange, $"{f.Path} is watched for changes"));
        Assert.Equal("false", configuration["hostBuilder:reloadConfigOnChange"]);
    }
}
