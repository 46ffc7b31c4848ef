using System.Diagnostics;
using Groundwork.Tests.Infrastructure;

namespace Groundwork.Tests.Deployment;

/// <summary>
/// The container and cluster files, checked where no cluster and no Docker engine exist: deploy/validate checks
/// the Kubernetes manifests against the API schemas, compose.yaml against the Compose specification, and the rules
/// operators rely on (probes, non-root, read-only root, shutdown budget, health check).
/// </summary>
public sealed class DeploymentFilesTests : IDisposable
{
    private readonly string _copy = Path.Combine(Path.GetTempPath(), "gw-deploy-" + Guid.NewGuid().ToString("N")[..8]);

    [Fact]
    public async Task The_manifests_compose_file_and_Dockerfile_are_valid()
    {
        var (code, output) = await ValidateAsync(RepoFiles.PathOf("deploy"));
        Assert.True(code == 0, output);
        Assert.Contains("Deployment, HorizontalPodAutoscaler", output, StringComparison.Ordinal);
        Assert.Contains("PodDisruptionBudget", output, StringComparison.Ordinal);
    }

    [Fact]
    public async Task The_check_catches_a_schema_error_a_writable_root_a_missing_probe_a_selector_overlap_and_a_bad_compose_service()
    {
        // A copy of the repository's deploy/ and Dockerfile, broken five ways.
        CopyFolder(RepoFiles.PathOf("deploy"), Path.Combine(_copy, "deploy"), skip: "node_modules");
        File.Copy(RepoFiles.PathOf("Dockerfile"), Path.Combine(_copy, "Dockerfile"));
        foreach (var source in new[] { "global.json", "Directory.Build.props", "Directory.Packages.props", ".editorconfig" })
        {
            File.Copy(RepoFiles.PathOf(source), Path.Combine(_copy, source));
        }

        Directory.CreateDirectory(Path.Combine(_copy, "api"));
        Directory.CreateDirectory(Path.Combine(_copy, "src", "Groundwork"));
        await File.WriteAllTextAsync(Path.Combine(_copy, "src", "Groundwork", "Groundwork.csproj"), "");
        var deployment = Path.Combine(_copy, "deploy", "k8s", "deployment.yaml");
        var text = await File.ReadAllTextAsync(deployment);
        text = text.Replace("containerPort: 8080 }", "containerPort: \"eighty\" }", StringComparison.Ordinal)
            .Replace("readOnlyRootFilesystem: true", "readOnlyRootFilesystem: false", StringComparison.Ordinal)
            .Replace("          readinessProbe:", "          notAProbe:", StringComparison.Ordinal);
        await File.WriteAllTextAsync(deployment, text);
        var service = Path.Combine(_copy, "deploy", "k8s", "service.yaml");
        await File.WriteAllTextAsync(service, (await File.ReadAllTextAsync(service)).Replace(", app.kubernetes.io/component: api }", " }", StringComparison.Ordinal));
        var compose = Path.Combine(_copy, "deploy", "compose.yaml");
        await File.WriteAllTextAsync(compose, (await File.ReadAllTextAsync(compose)).Replace("    image: redis:7", "    image: [redis]", StringComparison.Ordinal));

        var (code, output) = await ValidateAsync(Path.Combine(_copy, "deploy"));
        Assert.Equal(1, code);
        Assert.Contains("containerPort must be integer", output, StringComparison.Ordinal);
        Assert.Contains("writable root filesystem", output, StringComparison.Ordinal);
        Assert.Contains("no readinessProbe", output, StringComparison.Ordinal);
        Assert.Contains("/services/redis/image must be string", output, StringComparison.Ordinal);
        Assert.Contains("Service groundwork selects the pods of Job groundwork-migrate", output, StringComparison.Ordinal);
    }

    private static async Task<(int Code, string Output)> ValidateAsync(string deployFolder)
    {
        var script = RepoFiles.PathOf("deploy", "validate", "validate.mjs");
        var info = new ProcessStartInfo("node", [script, deployFolder]) { RedirectStandardOutput = true, RedirectStandardError = true };
        using var node = Process.Start(info)!;
        var output = node.StandardOutput.ReadToEndAsync();
        var error = node.StandardError.ReadToEndAsync();
        await node.WaitForExitAsync(TestContext.Current.CancellationToken);
        return (node.ExitCode, await output + await error);
    }

    private static void CopyFolder(string from, string to, string skip)
    {
        Directory.CreateDirectory(to);
        foreach (var file in Directory.GetFiles(from))
        {
            File.Copy(file, Path.Combine(to, Path.GetFileName(file)));
        }

        foreach (var folder in Directory.GetDirectories(from).Where(d => Path.GetFileName(d) != skip))
        {
            CopyFolder(folder, Path.Combine(to, Path.GetFileName(folder)), skip);
        }
    }

    public void Dispose()
    {
        try
        {
            Directory.Delete(_copy, recursive: true);
        }
        catch (IOException)
        {
        }
    }
}
