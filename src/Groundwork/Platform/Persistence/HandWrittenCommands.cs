using System.Data.Common;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Storage;

namespace Groundwork.Platform.Persistence;

/// <summary>
/// The few commands written by hand (hot paths EF Core cannot express, or where its machinery costs more than the
/// statement), on the context's connection and inside its open transaction, whichever the provider.
/// </summary>
public static class HandWrittenCommands
{
    /// <summary>A command in the context's current transaction; <paramref name="why"/> says what needs one when there is none.</summary>
    public static DbCommand CreateCommandInTransaction(this GroundworkDbContext db, string why)
    {
        ArgumentNullException.ThrowIfNull(db);
        var command = db.Database.GetDbConnection().CreateCommand();
        command.Transaction = db.Database.CurrentTransaction?.GetDbTransaction()
            ?? throw new InvalidOperationException(why);
        return command;
    }

    public static void AddParameter(this DbCommand command, string name, object value)
    {
        ArgumentNullException.ThrowIfNull(command);
        var parameter = command.CreateParameter();
        parameter.ParameterName = name;
        parameter.Value = value;
        command.Parameters.Add(parameter);
    }
}
