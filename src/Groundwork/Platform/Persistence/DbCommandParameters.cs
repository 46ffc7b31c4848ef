using System.Data.Common;

namespace Groundwork.Platform.Persistence;

/// <summary>Parameters for the few hand-written commands (hot paths EF Core cannot express), whichever the provider.</summary>
public static class DbCommandParameters
{
    public static void AddParameter(this DbCommand command, string name, object value)
    {
        ArgumentNullException.ThrowIfNull(command);
        var parameter = command.CreateParameter();
        parameter.ParameterName = name;
        parameter.Value = value;
        command.Parameters.Add(parameter);
    }
}
