using System.Diagnostics;
using System.Text.Json.Nodes;
using Groundwork.Tests.Infrastructure;

namespace Groundwork.Tests.Transports;

/// <summary>
/// The graphql-http package's server audits (GraphQL-over-HTTP conformance), run by node against a real server:
/// every MUST and SHOULD must pass (MAY audits are reported, not required).
/// </summary>
public sealed class GraphQLAuditTests(SqliteServerApp app) : IClassFixture<SqliteServerApp>
{
    [Fact]
    public async Task Every_MUST_and_SHOULD_audit_of_graphql_http_passes()
    {
        var script = RepoFiles.PathOf("tests", "graphql-audit", "audit.cjs");
        Assert.True(Directory.Exists(RepoFiles.PathOf("tests", "graphql-audit", "node_modules", "graphql-http")),
            "graphql-http is not installed: run `npm ci` in tests/graphql-audit (./test.sh does)");
        var info = new ProcessStartInfo("node", $"\"{script}\" {new Uri(app.HttpAddress, "/graphql")}")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        };
        using var node = Process.Start(info)!;
        var output = node.StandardOutput.ReadToEndAsync(TestContext.Current.CancellationToken);
        var errors = node.StandardError.ReadToEndAsync(TestContext.Current.CancellationToken);
        await node.WaitForExitAsync(TestContext.Current.CancellationToken);
        Assert.True(node.ExitCode == 0, $"audit run failed: {await errors}");

        var audits = JsonNode.Parse(await output)!.AsArray();
        Assert.True(audits.Count >= 50, $"only {audits.Count} audits ran");
        var required = audits.Where(a => a!["name"]!.GetValue<string>() is var n && (n.StartsWith("MUST", StringComparison.Ordinal) || n.StartsWith("SHOULD", StringComparison.Ordinal))).ToList();
        Assert.True(required.Count >= 30, $"only {required.Count} MUST/SHOULD audits");
        var failures = required.Where(a => a!["status"]!.GetValue<string>() != "ok")
            .Select(a => $"{a!["id"]} {a["name"]}: {a["reason"]}").ToList();
        Assert.True(failures.Count == 0, "graphql-http audits failed:\n" + string.Join("\n", failures));
    }
}
