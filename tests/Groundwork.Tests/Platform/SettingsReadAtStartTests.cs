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
        var files = SettingsFiles(app);

        // appsettings.json and appsettings.{Environment}.json among them: all read, none reloaded (no file watcher).
        Assert.Contains(files, f => f.Path == "appsettings.json");
        Assert.All(files, f => Assert.False(f.ReloadOnChange, $"{f.Path} is watched for changes"));
    }

    [Fact]
    public async Task An_operators_own_argument_still_turns_reloading_on()
    {
        // The test host passes its settings to Program as command-line arguments, after the service's own.
        await using var reloading = new ReloadingApp();
        await reloading.InitializeAsync();

        var files = SettingsFiles(reloading);
        Assert.Contains(files, f => f.Path == "appsettings.json");
        Assert.All(files, f => Assert.True(f.ReloadOnChange, $"{f.Path} is not watched"));
    }

    private static List<FileConfigurationSource> SettingsFiles(GroundworkApp app) =>
        ((IConfigurationRoot)app.Services.GetRequiredService<IConfiguration>()).Providers
            .OfType<JsonConfigurationProvider>().Select(p => p.Source).ToList();

    private sealed class ReloadingApp() : SqliteAppWith(new Dictionary<string, string?> { ["hostBuilder:reloadConfigOnChange"] = "true" });
}
