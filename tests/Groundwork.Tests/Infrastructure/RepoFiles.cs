namespace Groundwork.Tests.Infrastructure;

/// <summary>Files of the repository itself (contracts under api/, the audit script), found from the test binary.</summary>
public static class RepoFiles
{
    public static string Root { get; } = FindRoot();

    public static string PathOf(params string[] parts) => Path.Combine([Root, .. parts]);

    private static string FindRoot()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            if (File.Exists(Path.Combine(dir.FullName, "Groundwork.slnx")))
            {
                return dir.FullName;
            }
        }

        throw new InvalidOperationException("Groundwork.slnx not found above " + AppContext.BaseDirectory);
    }
}
