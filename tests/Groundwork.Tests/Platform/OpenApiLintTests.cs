using System.Diagnostics;
using System.Text.Json.Nodes;
using Groundwork.Tests.Infrastructure;

namespace Groundwork.Tests.Platform;

/// <summary>
/// The OpenAPI document the service publishes, linted with Redocly's recommended rules (tests/openapi-lint): no
/// errors, and no warnings but the missing licence: every operation has a summary and its 4xx answers, every tag
/// its description.
/// </summary>
public sealed class OpenApiLintTests(SqliteApp app) : IClassFixture<SqliteApp>, IDisposable
{
    private readonly string _file = Path.Combine(Path.GetTempPath(), $"gw-openapi-{Guid.NewGuid():N}.json");

    [Fact]
    public async Task The_published_document_passes_redocly_recommended_with_no_errors()
    {
        // The document's server is the host it was asked on (the rule flags localhost, as it would in production).
        using var client = app.CreateClient();
        client.DefaultRequestHeaders.Host = "api.groundwork.test";
        var document = await client.GetStringAsync("/openapi/v1.json", TestContext.Current.CancellationToken);
        await File.WriteAllTextAsync(_file, document, TestContext.Current.CancellationToken);

        var folder = RepoFiles.PathOf("tests", "openapi-lint");
        var info = new ProcessStartInfo("node", [Path.Combine(folder, "node_modules", "@redocly", "cli", "bin", "cli.js"), "lint", _file, "--format=json", "--config", Path.Combine(folder, "redocly.yaml")])
        {
            WorkingDirectory = folder,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        };
        info.Environment["REDOCLY_TELEMETRY"] = "off";
        info.Environment["REDOCLY_SUPPRESS_UPDATE_NOTICE"] = "true";
        using var node = Process.Start(info)!;
        var output = node.StandardOutput.ReadToEndAsync();
        var error = node.StandardError.ReadToEndAsync();
        await node.WaitForExitAsync(TestContext.Current.CancellationToken);
        var text = await output;
        var report = JsonNode.Parse(text[text.IndexOf('{', StringComparison.Ordinal)..])!;

        var problems = report["problems"]!.AsArray()
            .Select(p => $"{p!["severity"]} {p["ruleId"]} {p["location"]?[0]?["pointer"]}")
            .ToList();
        Assert.True(node.ExitCode == 0, string.Join('\n', problems) + await error);
        Assert.DoesNotContain(problems, p => p.StartsWith("error", StringComparison.Ordinal));
        Assert.All(problems, p => Assert.Contains("info-license", p, StringComparison.Ordinal));
    }

    public void Dispose() => File.Delete(_file);
}
