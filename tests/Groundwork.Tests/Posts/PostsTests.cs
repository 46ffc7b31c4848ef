using Groundwork.Features.Posts;
using System.Net.Http.Json;
using Groundwork.Platform.Auth;
using Groundwork.Tests.Infrastructure;

using Microsoft.EntityFrameworkCore;

namespace Groundwork.Tests.Posts;

public abstract class PostsTests(GroundworkApp app)
{
    private static async Task<string> CreateAsync(Actor author, string title, bool published = false)
    {
        var body = await (await author.Client().PostAsJsonAsync("/api/v1/posts", new { title, content = "Body of " + title, published })).AssertStatus(201);
        return body["data"]!["id"]!.GetValue<string>();
    }

    [Fact]
    public async Task Drafts_are_seen_by_their_author_and_staff_only_until_published()
    {
        var author = await app.ActorAsync();
        var other = await app.ActorAsync();
        var moderator = await app.ActorAsync(Role.Moderator);
        var id = await CreateAsync(author, "Draft " + Guid.NewGuid());

        await (await app.CreateClient().GetAsync($"/api/v1/posts/{id}")).AssertError(404, "NOT_FOUND");
        await (await other.Client().GetAsync($"/api/v1/posts/{id}")).AssertError(404, "NOT_FOUND");
        await (await other.Client().PatchAsJsonAsync($"/api/v1/posts/{id}", new { title = "Hijack" })).AssertError(404, "NOT_FOUND");
        await (await author.Client().GetAsync($"/api/v1/posts/{id}")).AssertStatus(200);
        await (await moderator.Client().GetAsync($"/api/v1/posts/{id}")).AssertStatus(200);

        var published = await (await author.Client().PostAsync($"/api/v1/posts/{id}/publish", null)).AssertStatus(200);
        Assert.True(published["data"]!["published"]!.GetValue<bool>());
        Assert.NotNull(published["data"]!["publishedAt"]);
        var anonymous = await (await app.CreateClient().GetAsync($"/api/v1/posts/{id}")).AssertStatus(200);
        Assert.Equal(author.Id.ToString(), anonymous["data"]!["authorId"]!.GetValue<string>());

        // Visible now, so forbidden actions are 403, not 404.
        await (await other.Client().PatchAsJsonAsync($"/api/v1/posts/{id}", new { title = "Hijack" })).AssertError(403, "AUTHORIZATION_ERROR");
        await (await other.Client().DeleteAsync($"/api/v1/posts/{id}")).AssertError(403, "AUTHORIZATION_ERROR");
        await (await other.Client().PostAsync($"/api/v1/posts/{id}/unpublish", null)).AssertError(403, "AUTHORIZATION_ERROR");
        var untouched = await app.Db(db => db.Posts.AsNoTracking().SingleAsync(p => p.Id == Guid.Parse(id)));
        Assert.NotEqual("Hijack", untouched.Title);
        Assert.True(untouched.Published);

        await (await moderator.Client().PostAsync($"/api/v1/posts/{id}/unpublish", null)).AssertStatus(200);
        await (await app.CreateClient().GetAsync($"/api/v1/posts/{id}")).AssertError(404, "NOT_FOUND");

        var postId = Guid.Parse(id);
        var types = await app.Db(db => db.OutboxMessages.Where(m => m.Subject == postId).OrderBy(m => m.Number).Select(m => m.Type).ToListAsync());
        Assert.Equal(["post.published", "post.unpublished"], types);
    }

    [Fact]
    public async Task Author_edits_with_if_match_and_moderators_delete()
    {
        var author = await app.ActorAsync();
        var moderator = await app.ActorAsync(Role.Moderator);
        var id = await CreateAsync(author, "Edit me", published: true);

        var edited = await author.Client().PatchAsJsonAsync($"/api/v1/posts/{id}", new { title = "Edited" });
        Assert.Equal("Edited", (await edited.AssertStatus(200))["data"]!["title"]!.GetValue<string>());
        Assert.Equal("\"v2\"", edited.Headers.ETag!.Tag);
        var stale = new HttpRequestMessage(HttpMethod.Patch, $"/api/v1/posts/{id}") { Content = JsonContent.Create(new { content = "x" }) };
        stale.Headers.TryAddWithoutValidation("If-Match", "\"v1\"");
        await (await author.Client().SendAsync(stale)).AssertError(412, "PRECONDITION_FAILED");
        await (await moderator.Client().PatchAsJsonAsync($"/api/v1/posts/{id}", new { title = "Mod edit" })).AssertError(403, "AUTHORIZATION_ERROR");

        Assert.Equal(204, (int)(await moderator.Client().DeleteAsync($"/api/v1/posts/{id}")).StatusCode);
        await (await author.Client().GetAsync($"/api/v1/posts/{id}")).AssertError(404, "NOT_FOUND");
        var postId = Guid.Parse(id);
        Assert.True(await app.Db(db => db.OutboxMessages.AnyAsync(m => m.Type == "post.deleted" && m.Subject == postId)));
        Assert.False(await app.Db(db => db.Posts.AnyAsync(p => p.Id == postId)));
    }

    /// <summary>
    /// A search folds the term the way the database folds stored text: SQLite's lower() folds only A–Z, and a term
    /// folded by .NET alone ("ÉCOLE" to "école") never met "ÉCOLE" folded by SQLite ("École"), not even exactly.
    /// </summary>
    [Fact]
    public async Task A_search_finds_capital_accented_words_as_written_and_in_any_ascii_case()
    {
        var author = await app.ActorAsync();
        var tag = Guid.NewGuid().ToString("N")[..8];
        await CreateAsync(author, $"ÉCOLE-{tag} title", published: true);
        foreach (var term in new[] { $"ÉCOLE-{tag}", $"École-{tag}", $"ÉcOlE-{tag}" })
        {
            var found = await (await app.CreateClient().GetAsync($"/api/v1/posts?q={Uri.EscapeDataString(term)}")).AssertStatus(200);
            Assert.Equal($"ÉCOLE-{tag} title", Assert.Single(found["data"]!.AsArray())!["title"]!.GetValue<string>());
            Assert.Equal(1, found["meta"]!["total"]!.GetValue<int>());
        }

        var admin = await app.ActorAsync(Role.Admin);
        await author.RenameAsync($"ÉLODIE {tag}");
        var users = await (await admin.Client().GetAsync($"/api/v1/users?q={Uri.EscapeDataString($"ÉLODIE {tag}")}")).AssertStatus(200);
        Assert.Equal(author.Id.ToString(), Assert.Single(users["data"]!.AsArray())!["id"]!.GetValue<string>());
    }

    [Fact]
    public async Task Lists_filter_sort_and_hide_what_the_caller_may_not_see()
    {
        var author = await app.ActorAsync();
        var tag = Guid.NewGuid().ToString("N")[..8];
        await CreateAsync(author, $"b-{tag}", published: true);
        await CreateAsync(author, $"A-{tag}", published: true);
        await CreateAsync(author, $"c-{tag}", published: false);

        var anonymous = await (await app.CreateClient().GetAsync($"/api/v1/posts?q={tag}&sort=title&order=asc")).AssertStatus(200);
        Assert.Equal([$"A-{tag}", $"b-{tag}"], anonymous["data"]!.AsArray().Select(p => p!["title"]!.GetValue<string>()));
        var mine = await (await author.Client().GetAsync($"/api/v1/users/{author.Id}/posts?q={tag}")).AssertStatus(200);
        Assert.Equal(3, mine["meta"]!["total"]!.GetValue<int>());
        var drafts = await (await author.Client().GetAsync($"/api/v1/posts?q={tag}&published=false")).AssertStatus(200);
        Assert.Equal($"c-{tag}", drafts["data"]!.AsArray().Single()!["title"]!.GetValue<string>());
        var others = await (await app.CreateClient().GetAsync($"/api/v1/users/{author.Id}/posts?published=false")).AssertStatus(200);
        Assert.Empty(others["data"]!.AsArray());
        var byAuthor = await (await app.CreateClient().GetAsync($"/api/v1/posts?authorId={author.Id}&sort=published_at")).AssertStatus(200);
        Assert.Equal(2, byAuthor["meta"]!["total"]!.GetValue<int>());
        await (await app.CreateClient().GetAsync("/api/v1/posts?published=maybe")).AssertError(400, "VALIDATION_ERROR");
        await (await app.CreateClient().GetAsync("/api/v1/posts?sort=content")).AssertError(400, "VALIDATION_ERROR");
    }

    [Theory]
    [InlineData("{\"title\":\"\",\"content\":\"x\"}", "title")]
    [InlineData("{\"title\":\"t\",\"content\":\"\"}", "content")]
    [InlineData("{\"title\":\"t\",\"content\":\"x\",\"authorId\":\"00000000-0000-0000-0000-000000000001\"}", "authorId")]
    public async Task Invalid_posts_are_400_and_create_nothing(string json, string field)
    {
        var author = await app.ActorAsync();
        var response = await author.Client().PostAsync("/api/v1/posts", new StringContent(json, System.Text.Encoding.UTF8, "application/json"));
        Assert.Contains(field, (await response.AssertError(400, "VALIDATION_ERROR")).Fields());
        Assert.False(await app.Db(db => db.Posts.AnyAsync(p => p.AuthorId == author.Id)));
    }

    [Fact]
    public async Task Title_and_content_limits_hold()
    {
        var author = await app.ActorAsync();
        await (await author.Client().PostAsJsonAsync("/api/v1/posts", new { title = new string('t', 201), content = "x" })).AssertError(400, "VALIDATION_ERROR");
        await (await author.Client().PostAsJsonAsync("/api/v1/posts", new { title = "t", content = new string('c', 50_001) })).AssertError(400, "VALIDATION_ERROR");
        await (await author.Client().PostAsJsonAsync("/api/v1/posts", new { title = new string('t', 200), content = new string('c', 50_000) })).AssertStatus(201);
        Assert.Equal(1, await app.Db(db => db.Posts.CountAsync(p => p.AuthorId == author.Id)));
    }
}

public sealed class PostsTestsOnSqlite(SqliteApp app) : PostsTests(app), IClassFixture<SqliteApp>;

public sealed class PostsTestsOnPostgres(PostgresApp app) : PostsTests(app), IClassFixture<PostgresApp>;
