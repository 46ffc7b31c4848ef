using System.Data.Common;
using Microsoft.EntityFrameworkCore.Diagnostics;

namespace Groundwork.Tests.Infrastructure;

/// <summary>
/// Counts the SQL statements one test app's DbContexts execute (an EF Core interceptor every test app
/// registers), optionally only those <see cref="Counted"/> accepts. The service's own background work (the outbox
/// relay polling, the event-hub watchdog) is never counted: it runs whenever it likes, not because of a request.
/// </summary>
public sealed class SqlStatementCounter : DbCommandInterceptor
{
    private int _count;

    public Func<string, bool> Counted { get; set; } = _ => true;

    public int Count => Volatile.Read(ref _count);

    public void Reset() => Interlocked.Exchange(ref _count, 0);

    public override DbDataReader ReaderExecuted(DbCommand command, CommandExecutedEventData eventData, DbDataReader result)
    {
        Record(command);
        return result;
    }

    public override ValueTask<DbDataReader> ReaderExecutedAsync(DbCommand command, CommandExecutedEventData eventData, DbDataReader result, CancellationToken cancellationToken = default)
    {
        Record(command);
        return ValueTask.FromResult(result);
    }

    public override object? ScalarExecuted(DbCommand command, CommandExecutedEventData eventData, object? result)
    {
        Record(command);
        return result;
    }

    public override ValueTask<object?> ScalarExecutedAsync(DbCommand command, CommandExecutedEventData eventData, object? result, CancellationToken cancellationToken = default)
    {
        Record(command);
        return ValueTask.FromResult(result);
    }

    public override int NonQueryExecuted(DbCommand command, CommandExecutedEventData eventData, int result)
    {
        Record(command);
        return result;
    }

    public override ValueTask<int> NonQueryExecutedAsync(DbCommand command, CommandExecutedEventData eventData, int result, CancellationToken cancellationToken = default)
    {
        Record(command);
        return ValueTask.FromResult(result);
    }

    private void Record(DbCommand command)
    {
        if (Groundwork.Platform.Hosting.BackgroundWork.Current is null && Counted(command.CommandText))
        {
            Interlocked.Increment(ref _count);
        }
    }
}
