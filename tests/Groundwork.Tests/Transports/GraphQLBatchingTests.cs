using Groundwork.Features.Posts;
using Groundwork.Features.Users;
using Groundwork.Platform.Auth;
using Groundwork.Platform.Persistence;
using Groundwork.Tests.Infrastructure;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;

namespace Groundwork.Tests.Transports;

/// <summary>
/// Related objects load in batches: the number of SQL statements a query runs does not grow with the number
/// of objects it returns (docs/api/pagination.md). Each provider gets its own database, so the counts are exact.
/// </summary>
public abstract class GraphQLBatchingTests(GroundworkApp app)
{
    private const string PostsWithAuthors = "{ posts { id title author { id name } } }";
    // 50 users, not 100: priced at its real worst case (50 users × 100 posts each, with authors) the query must stay
    // under the cost limit, which 100 users with a nested list of 100 would not.
    private const string UsersWithPosts = "{ users(limit: 50) { nodes { id name posts { id title author { name } } } } }";

    [Fact]
    public async Task Posts_with_authors_and_users_with_posts_run_the_same_statements_for_10_objects_as_for_100()
    {
        var admin = await app.ActorAsync(Role.Admin);
        var client = admin.Client();
        // Authentication reads (session status) are the transport's, not the query's; everything else counts.
        var counter = app.Sql;
        counter.Counted = sql => !sql.Contains("sessions", StringComparison.Ordinal) && !sql.Contains("api_keys", StringComparison.Ordinal);

        await SeedAuthorsWithPostsAsync(9); // with the admin: 10 users, 9 posts (one each)
        var small = await MeasureAsync(client, counter);
        Assert.Equal(9, small.Posts);
        Assert.Equal(10, small.Users);

        await SeedAuthorsWithPostsAsync(90); // 100 users, 99 posts
        var large = await MeasureAsync(client, counter);
        Assert.Equal(99, large.Posts);
        Assert.Equal(50, large.Users);

        Assert.Equal(small.PostStatements, large.PostStatements);
        Assert.Equal(small.UserStatements, large.UserStatements);
        // page + one batch of authors; page + one batch of posts + one batch of their authors. No count(*):
        // nothing asked for totalCount or pageInfo.
        Assert.Equal(2, large.PostStatements);
        Assert.Equal(3, large.UserStatements);

        counter.Reset();
        var counted = (await client.GraphQLAsync("{ users(limit: 5) { totalCount nodes { id } } }")).AssertData();
        Assert.Equal(2, counter.Count); // count + page
        Assert.Equal(100, counted["users"]!["totalCount"]!.GetValue<int>());
        counter.Reset();
        (await client.GraphQLAsync("{ users(limit: 5) { nodes { id } } }")).AssertData();
        Assert.Equal(1, counter.Count); // page only
    }

    private static async Task<(int Posts, int Users, int PostStatements, int UserStatements)> MeasureAsync(HttpClient client, SqlStatementCounter counter)
    {
        counter.Reset();
        var posts = (await client.GraphQLAsync(PostsWithAuthors)).AssertData()["posts"]!.AsArray();
        var postStatements = counter.Count;
        Assert.All(posts, p => Assert.StartsWith("Author", p!["author"]!["name"]!.GetValue<string>(), StringComparison.Ordinal));

        counter.Reset();
        var users = (await client.GraphQLAsync(UsersWithPosts)).AssertData()["users"]!["nodes"]!.AsArray();
        var userStatements = counter.Count;
        Assert.All(users.Where(u => u!["name"]!.GetValue<string>().StartsWith("Author", StringComparison.Ordinal)),
            u => Assert.Equal(u!["name"]!.GetValue<string>(), Assert.Single(u["posts"]!.AsArray())!["author"]!["name"]!.GetValue<string>()));
        return (posts.Count, users.Count, postStatements, userStatements);
    }

    private async Task SeedAuthorsWithPostsAsync(int count)
    {
        for (var i = 0; i < count; i++)
        {
            var name = $"Author {Guid.NewGuid():N}"[..20];
            var user = await app.CreateUserAsync(GroundworkApp.UniqueEmail("author"), name, "correct-horse-battery");
            await app.WithScopeAsync(async sp =>
            {
                var db = sp.GetRequiredService<GroundworkDbContext>();
                var now = DateTime.UtcNow;
                db.Posts.Add(new Post { AuthorId = user.Id, Title = $"Post by {name}", Content = "x", Published = true, PublishedAt = now, CreatedAt = now, UpdatedAt = now });
                return await db.SaveChangesAsync();
            });
        }
    }
}

public sealed class GraphQLBatchingTestsOnSqlite(SqliteApp app) : GraphQLBatchingTests(app), IClassFixture<SqliteApp>;

public sealed class GraphQLBatchingTestsOnPostgres(PostgresApp app) : GraphQLBatchingTests(app), IClassFixture<PostgresApp>;
