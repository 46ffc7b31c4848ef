using System.Data.Common;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Storage;
using Microsoft.EntityFrameworkCore.Storage.ValueConversion;

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

/// <summary>
/// An enum value as the lower-case text its column stores: the EF conversion of accounts' kind, ledger
/// transactions' type and orders' status, and what hand-written commands write to those columns, so the two cannot
/// drift (not every enum column is stored so: webhook deliveries' status keeps its case). Made once per value, so
/// hot paths do not build it on every call.
/// </summary>
public static class LowerCaseEnumColumn<TEnum>
    where TEnum : struct, Enum
{
    private static readonly Dictionary<TEnum, string> Names = Build();

    public static string Of(TEnum value) => Names.TryGetValue(value, out var name) ? name : value.ToString().ToLowerInvariant();

    /// <summary>The column's EF conversion: written with <see cref="Of"/>, read back whatever its case.</summary>
    public static ValueConverter<TEnum, string> Converter { get; } = new(v => Of(v), s => Enum.Parse<TEnum>(s, true));

    private static Dictionary<TEnum, string> Build()
    {
        var names = new Dictionary<TEnum, string>();
        foreach (var value in Enum.GetValues<TEnum>())
        {
            names.TryAdd(value, value.ToString().ToLowerInvariant());
        }

        return names;
    }
}
