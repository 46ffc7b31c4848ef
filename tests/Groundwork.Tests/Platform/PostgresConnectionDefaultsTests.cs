using Groundwork.Features.Users;
using Groundwork.Platform.Persistence;
using Groundwork.Tests.Infrastructure;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Npgsql;

namespace Groundwork.Tests.Platform;

/// <summary>The pool defaults the service applies to a PostgreSQL connection string (ADR 0017), and what they do.</summary>
public sealed class PostgresConnectionDefaultsTests(PostgresApp app) : IClassFixture<PostgresApp>
{
    [Fact]
    public void Defaults_apply_only_where_the_connection_string_is_silent()
    {
        var tuned = new NpgsqlConnectionStringBuilder(DatabaseSetup.TunePostgres("Host=db;Database=gw;Username=u;Password=secret"));
        Assert.True(tuned.NoResetOnClose);
        Assert.Equal(100, tuned.MaxAutoPrepare);
        Assert.Equal("secret", tuned.Password);
        Assert.Equal("db", tuned.Host);

        // The operator's own choice wins, whichever spelling of the keyword they used.
        var chosen = new NpgsqlConnectionStringBuilder(DatabaseSetup.TunePostgres("Host=db;Max Auto Prepare=0;NoResetOnClose=false"));
        Assert.False(chosen.NoResetOnClose);
        Assert.Equal(0, chosen.MaxAutoPrepare);
        var other = new NpgsqlConnectionStringBuilder(DatabaseSetup.TunePostgres("Host=db;maxautoprepare=7;No Reset On Close=true"));
        Assert.Equal(7, other.MaxAutoPrepare);
        Assert.True(other.NoResetOnClose);
    }

    [Fact]
    public async Task A_statement_run_often_is_prepared()
    {
        await app.WithScopeAsync(async sp =>
        {
            var db = sp.GetRequiredService<GroundworkDbContext>();
            await db.Database.OpenConnectionAsync();
            try
            {
                // Npgsql prepares a statement once it has run it a few times (Auto Prepare Min Usages, 5 by default).
                for (var i = 0; i < 8; i++)
                {
                    Assert.Equal(0, await db.Users.CountAsync(u => u.Email == "nobody-" + i + "@example.com"));
                }

                var prepared = await db.Database.SqlQuery<long>($"SELECT count(*) AS \"Value\" FROM pg_prepared_statements WHERE statement LIKE '%FROM users%'").SingleAsync();
                Assert.True(prepared >= 1, "the repeated users query was not prepared");
            }
            finally
            {
                await db.Database.CloseConnectionAsync();
            }

            return true;
        });
    }
}
