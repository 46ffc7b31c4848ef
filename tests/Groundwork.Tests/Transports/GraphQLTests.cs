using Groundwork.Features.Users;
using Groundwork.Features.Posts;
using Groundwork.Features.Accounts;
using System.Net.Http.Json;
using System.Text.Json.Nodes;
using Groundwork.Platform.Auth;
using Groundwork.Tests.Infrastructure;

using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;

namespace Groundwork.Tests.Transports;

/// <summary>GraphQL over HTTP: the seed operations, errors with catalogue codes, limits, GET semantics.</summary>
public abstract class GraphQLTests(GroundworkApp app)
{
    [Fact]
    public async Task The_seed_queries_and_mutations_return_their_documented_shapes()
    {
        var admin = (await app.ActorAsync(Role.Admin)).Client();
        var email = GroundworkApp.UniqueEmail("seed");

        var created = (await admin.GraphQLAsync(
            "mutation($input: CreateUserInput!) { createUser(input: $input) { id email name role createdAt updatedAt } }",
            new { input = new { email, name = "Seed User", password = "seed-password-123" } })).AssertData()["createUser"]!;
        var id = created["id"]!.GetValue<string>();
        Assert.True(Guid.TryParse(id, out _));
        Assert.Equal(email, created["email"]!.GetValue<string>());
        Assert.Equal("USER", created["role"]!.GetValue<string>()); // the input's default
        // Timestamps read as on REST: UTC, milliseconds, 'Z'.
        Assert.Matches(@"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$", created["createdAt"]!.GetValue<string>());
        var stored = await app.Db(db => db.Users.AsNoTracking().SingleAsync(u => u.Id == Guid.Parse(id)));
        Assert.Equal("Seed User", stored.Name);
        Assert.Equal(Role.User, stored.Role);

        var user = (await admin.GraphQLAsync($$"""{ user(id: "{{id}}") { id email name role posts { id } createdAt updatedAt } }""")).AssertData()["user"]!;
        Assert.Equal(email, user["email"]!.GetValue<string>());
        Assert.Empty(user["posts"]!.AsArray());

        var users = (await admin.GraphQLAsync(
            "{ users(page: 1, limit: 2, role: USER) { nodes { id role } totalCount pageInfo { currentPage totalPages hasNextPage hasPreviousPage } } }"))
            .AssertData()["users"]!;
        Assert.All(users["nodes"]!.AsArray(), n => Assert.Equal("USER", n!["role"]!.GetValue<string>()));
        var total = users["totalCount"]!.GetValue<int>();
        Assert.Equal(await app.Db(db => db.Users.CountAsync(u => u.Role == Role.User)), total);
        Assert.Equal(1, users["pageInfo"]!["currentPage"]!.GetValue<int>());
        Assert.Equal((total + 1) / 2, users["pageInfo"]!["totalPages"]!.GetValue<int>());
        Assert.False(users["pageInfo"]!["hasPreviousPage"]!.GetValue<bool>());

        var updated = (await admin.GraphQLAsync($$"""mutation { updateUser(id: "{{id}}", input: { name: "Renamed", role: MODERATOR }) { id name role } }"""))
            .AssertData()["updateUser"]!;
        Assert.Equal("Renamed", updated["name"]!.GetValue<string>());
        Assert.Equal("MODERATOR", updated["role"]!.GetValue<string>());
        Assert.Equal(Role.Moderator, (await app.Db(db => db.Users.AsNoTracking().SingleAsync(u => u.Id == Guid.Parse(id)))).Role);

        var post = (await admin.GraphQLAsync(
            "mutation { createPost(input: { title: \"Seed post\", content: \"Body\", published: true }) { id title content published createdAt author { id name } } }"))
            .AssertData()["createPost"]!;
        var postId = post["id"]!.GetValue<string>();
        Assert.True(post["published"]!.GetValue<bool>());
        Assert.True(await app.Db(db => db.Posts.AnyAsync(p => p.Id == Guid.Parse(postId) && p.Published)));

        var anonymous = app.CreateClient();
        var read = (await anonymous.GraphQLAsync($$"""{ post(id: "{{postId}}") { id title author { name } published } }""")).AssertData()["post"]!;
        Assert.Equal("Seed post", read["title"]!.GetValue<string>());
        var list = (await anonymous.GraphQLAsync("{ posts { id title published author { name } } }")).AssertData()["posts"]!.AsArray();
        Assert.Contains(list, p => p!["id"]!.GetValue<string>() == postId);
        Assert.All(list, p => Assert.True(p!["published"]!.GetValue<bool>()));

        var deleted = (await admin.GraphQLAsync($$"""mutation { deleteUser(id: "{{id}}") }""")).AssertData()["deleteUser"]!;
        Assert.True(deleted.GetValue<bool>());
        await (await admin.GetAsync($"/api/v1/users/{id}")).AssertError(404, "NOT_FOUND");
        Assert.False(await app.Db(db => db.Users.AnyAsync(u => u.Id == Guid.Parse(id))));
    }

    /// <summary>
    /// A deleted user's posts stay, and so does their author: Post.author is non-null, so an author left out of the
    /// batch nulled every public feed listing one of those posts, for every caller (an account anyone can make).
    /// </summary>
    [Fact]
    public async Task The_posts_of_a_deleted_user_still_name_their_author_in_public_feeds()
    {
        var author = await app.ActorAsync();
        var title = $"Left behind {Guid.NewGuid():N}";
        var post = (await (await author.Client().PostAsJsonAsync("/api/v1/posts", new { title, content = "C", published = true })).AssertStatus(201))["data"]!["id"]!.GetValue<string>();
        var name = (await (await author.Client().GetAsync("/api/v1/auth/me")).AssertStatus(200))["data"]!["name"]!.GetValue<string>();
        Assert.Equal(204, (int)(await author.Client().DeleteAsync($"/api/v1/users/{author.Id}")).StatusCode);

        var anonymous = app.CreateClient();
        var feed = (await anonymous.GraphQLAsync("{ posts { id title author { id name } } }")).AssertData();
        var listed = feed["posts"]!.AsArray().Single(p => p!["id"]!.GetValue<string>() == post)!;
        Assert.Equal((author.Id.ToString(), name), (listed["author"]!["id"]!.GetValue<string>(), listed["author"]!["name"]!.GetValue<string>()));
        var single = (await anonymous.GraphQLAsync($$"""{ post(id: "{{post}}") { title author { name } } }""")).AssertData();
        Assert.Equal(name, single["post"]!["author"]!["name"]!.GetValue<string>());
        var page = (await anonymous.GraphQLAsync("{ postsConnection(first: 100) { nodes { id author { name } } } }")).AssertData();
        Assert.Contains(page["postsConnection"]!["nodes"]!.AsArray(), n => n!["id"]!.GetValue<string>() == post && n["author"]!["name"]!.GetValue<string>() == name);
        // The account itself is still gone.
        await (await (await app.ActorAsync(Role.Admin)).Client().GetAsync($"/api/v1/users/{author.Id}")).AssertError(404, "NOT_FOUND");
    }

    [Fact]
    public async Task Me_orders_accounts_transactions_transfer_and_payOrder_work_over_GraphQL()
    {
        var admin = await app.ActorAsync(Role.Admin);
        var owner = await app.ActorAsync();
        var client = owner.Client();
        Assert.Equal(owner.Email, (await client.GraphQLAsync("{ me { email } }")).AssertData()["me"]!["email"]!.GetValue<string>());

        var from = (await client.GraphQLAsync("mutation { createAccount(currency: \"EUR\") { id balance currency } }")).AssertData()["createAccount"]!["id"]!.GetValue<string>();
        var to = await (await app.ActorAsync()).OpenAccountAsync();
        await admin.DepositAsync(Guid.Parse(from), 10_000);

        const string transfer = "mutation($input: TransferInput!, $key: String!) { transfer(input: $input, idempotencyKey: $key) { id type amount currency fromAccountId toAccountId } }";
        var variables = new { input = new { fromAccountId = from, toAccountId = to.ToString(), amount = 2_500, description = "rent" }, key = Guid.NewGuid().ToString() };
        var first = (await client.GraphQLAsync(transfer, variables)).AssertData()["transfer"]!;
        var replay = (await client.GraphQLAsync(transfer, variables)).AssertData()["transfer"]!;
        Assert.Equal(first.ToJsonString(), replay.ToJsonString());
        Assert.Equal("TRANSFER", first["type"]!.GetValue<string>());
        Assert.Equal(7_500, await app.BalanceAsync(Guid.Parse(from)));
        Assert.Equal(2_500, await app.BalanceAsync(to));

        var reused = await client.GraphQLAsync(transfer, variables with { input = variables.input with { amount = 1 } });
        reused.AssertError("IDEMPOTENCY_KEY_REUSED");
        Assert.Equal(7_500, await app.BalanceAsync(Guid.Parse(from)));

        var poor = await client.GraphQLAsync(transfer, new { input = new { fromAccountId = from, toAccountId = to.ToString(), amount = 1_000_000 }, key = Guid.NewGuid().ToString() });
        poor.AssertError("INSUFFICIENT_FUNDS");
        Assert.Null(poor.Data?["transfer"]);

        var history = (await client.GraphQLAsync($$"""{ transactions(accountId: "{{from}}", first: 1) { nodes { type amount } pageInfo { hasNextPage endCursor } } }"""))
            .AssertData()["transactions"]!;
        Assert.Equal("TRANSFER", history["nodes"]![0]!["type"]!.GetValue<string>());
        Assert.True(history["pageInfo"]!["hasNextPage"]!.GetValue<bool>());
        var cursor = history["pageInfo"]!["endCursor"]!.GetValue<string>();
        var older = (await client.GraphQLAsync($$"""{ transactions(accountId: "{{from}}", first: 5, after: "{{cursor}}") { nodes { type } pageInfo { hasNextPage } } }"""))
            .AssertData()["transactions"]!;
        Assert.Equal("DEPOSIT", Assert.Single(older["nodes"]!.AsArray())!["type"]!.GetValue<string>());

        var order = (await client.GraphQLAsync(
            "mutation { createOrder(input: { currency: \"EUR\", items: [{ sku: \"A-1\", name: \"Mug\", quantity: 2, unitPrice: 1250 }] }) { id status total } }"))
            .AssertData()["createOrder"]!;
        Assert.Equal(2_500, order["total"]!.GetValue<long>());
        var orderId = order["id"]!.GetValue<string>();
        var noKey = await client.GraphQLAsync($$"""mutation { payOrder(id: "{{orderId}}", accountId: "{{from}}", idempotencyKey: "") { status } }""");
        noKey.AssertError("VALIDATION_ERROR");
        var paid = (await client.GraphQLAsync($$"""mutation { payOrder(id: "{{orderId}}", accountId: "{{from}}", idempotencyKey: "{{Guid.NewGuid()}}") { status paidAt } }"""))
            .AssertData()["payOrder"]!;
        Assert.Equal("PAID", paid["status"]!.GetValue<string>());
        Assert.Equal(5_000, await app.BalanceAsync(Guid.Parse(from)));
        var orders = (await client.GraphQLAsync("{ orders { nodes { id status } totalCount } }")).AssertData()["orders"]!;
        Assert.Equal(1, orders["totalCount"]!.GetValue<int>());
        await app.AssertLedgerOkAsync(admin);
    }

    [Fact]
    public async Task Errors_carry_catalogue_codes_field_details_and_the_request_id()
    {
        var user = await app.ActorAsync();
        var other = await app.ActorAsync();
        var anonymous = app.CreateClient();

        (await anonymous.GraphQLAsync("{ me { id } }")).AssertError("AUTHENTICATION_ERROR");
        (await user.Client().GraphQLAsync($$"""{ user(id: "{{other.Id}}") { id } }""")).AssertError("NOT_FOUND");
        (await user.Client().GraphQLAsync("{ users { totalCount } }")).AssertError("AUTHORIZATION_ERROR");
        (await user.Client().GraphQLAsync("""{ user(id: "not-a-guid") { id } }""")).AssertError("VALIDATION_ERROR");

        var admin = (await app.ActorAsync(Role.Admin)).Client();
        var invalid = await admin.GraphQLAsync("mutation { createUser(input: { email: \"nope\", name: \"X\", password: \"short\" }) { id } }");
        var error = invalid.AssertError("VALIDATION_ERROR");
        var fields = error["extensions"]!["details"]!.AsArray().Select(d => d!["field"]!.GetValue<string>()).ToList();
        Assert.Contains("email", fields);
        Assert.Contains("password", fields);
        Assert.Equal(["createUser"], error["path"]!.AsArray().Select(p => p!.GetValue<string>()));

        // An author's address is not public: reading it through a post is refused for that field only.
        var author = await app.ActorAsync();
        await author.Client().GraphQLAsync("mutation { createPost(input: { title: \"Public\", content: \"x\", published: true }) { id } }");
        var leak = await anonymous.GraphQLAsync("{ posts { author { email } } }");
        leak.AssertError("AUTHORIZATION_ERROR");
        Assert.DoesNotContain(author.Email, leak.Body.ToJsonString(), StringComparison.Ordinal);
        var self = (await author.Client().GraphQLAsync("{ me { posts { author { email } } } }")).AssertData();
        Assert.Equal(author.Email, self["me"]!["posts"]![0]!["author"]!["email"]!.GetValue<string>());

        // Nor is an author's role: who is staff is for staff to know.
        var roleLeak = await anonymous.GraphQLAsync("{ posts { author { role } } }");
        roleLeak.AssertError("AUTHORIZATION_ERROR");
        Assert.DoesNotContain("\"role\":\"", roleLeak.Body.ToJsonString(), StringComparison.Ordinal);
        var staff = (await admin.GraphQLAsync("{ posts { author { role } } }")).AssertData();
        Assert.All(staff["posts"]!.AsArray(), p => Assert.False(string.IsNullOrEmpty(p!["author"]!["role"]!.GetValue<string>())));

        // A broken credential is refused outright, not downgraded to anonymous.
        var forged = app.CreateClient();
        forged.DefaultRequestHeaders.Authorization = new("Bearer", "not.a.token");
        var refused = await forged.GraphQLAsync("{ posts { id } }");
        refused.AssertError("AUTHENTICATION_ERROR", 401);
        Assert.NotEmpty(refused.Http.Headers.WwwAuthenticate);
    }

    [Fact]
    public async Task Depth_alias_cost_and_size_limits_refuse_abusive_documents_before_they_run()
    {
        var client = (await app.ActorAsync(Role.Admin)).Client();

        var deep = await client.GraphQLAsync("{ posts { author { posts { author { posts { author { posts { author { posts { author { name } } } } } } } } } } }");
        Assert.Contains("levels deep", deep.AssertError("VALIDATION_ERROR", 400)["message"]!.GetValue<string>(), StringComparison.Ordinal);
        Assert.Null(deep.Body["data"]);

        var aliases = "{ " + string.Join(" ", Enumerable.Range(1, 16).Select(i => $"a{i}: me {{ id }}")) + " }";
        Assert.Contains("aliases", (await client.GraphQLAsync(aliases)).AssertError("VALIDATION_ERROR", 400)["message"]!.GetValue<string>(), StringComparison.Ordinal);
        var fifteen = "{ " + string.Join(" ", Enumerable.Range(1, 15).Select(i => $"a{i}: me {{ id }}")) + " }";
        (await client.GraphQLAsync(fifteen)).AssertData();

        var costly = await client.GraphQLAsync("{ users(limit: 100) { nodes { posts { author { posts { author { posts { id } } } } } } } }");
        Assert.Contains("complex", costly.AssertError("VALIDATION_ERROR", 400)["message"]!.GetValue<string>(), StringComparison.Ordinal);

        var huge = "{ me { id } }" + new string(' ', 40_000);
        (await client.GraphQLAsync(huge)).AssertError("VALIDATION_ERROR", 400);

        // Legacy application/json clients get the same errors with 200, as the GraphQL-over-HTTP draft asks.
        var legacy = await client.GraphQLAsync("{ posts { author { posts { author { posts { author { posts { author { posts { author { name } } } } } } } } } } }", accept: "application/json");
        legacy.AssertError("VALIDATION_ERROR", 200);
    }

    /// <summary>
    /// Validation is not linear in a document's fields (the field-merge rule compares every pair of fields with one
    /// name; the depth and cost rules expand every fragment spread), so a document over 500 selections once its
    /// fragments are expanded is refused by one linear count before any rule runs. Before, a 32 KiB document of
    /// repeated fields took seconds, and 22 fragments each spreading the next twice (under 1 KiB) took 5 s before
    /// the cost rule refused it as too complex.
    /// </summary>
    [Fact]
    public async Task A_document_over_the_selection_limit_once_fragments_expand_is_refused_before_validation()
    {
        var user = await app.ActorAsync(Role.User);
        var client = user.Client();
        var max = Groundwork.Platform.GraphQLServer.GraphQLLimits.MaxSelections;

        // me and 500 ids: 501 selections, one more than a document may have.
        var over = await client.GraphQLAsync("{ me { " + string.Concat(Enumerable.Repeat("id ", max)) + "} }");
        over.AssertError("VALIDATION_ERROR", 400);
        Assert.Contains($"more than {max} fields", over.Body.ToJsonString(), StringComparison.Ordinal);
        Assert.Null(over.Body["data"]);

        // Small text, huge once expanded: refused by the count, not after the rules walked 4 million fields.
        var diamond = "{ me { ...F0 } } " + string.Concat(Enumerable.Range(0, 22).Select(i => $"fragment F{i} on User {{ ...F{i + 1} ...F{i + 1} }} ")) + "fragment F22 on User { id }";
        var refused = await app.CreateClient().GraphQLAsync(diamond);
        refused.AssertError("VALIDATION_ERROR", 400);
        Assert.Contains($"more than {max} fields", refused.Body.ToJsonString(), StringComparison.Ordinal);

        // The same fragment spread many times is expanded each time: 10 spreads of a 60-field fragment is over.
        var fragment = "fragment Many on User { " + string.Concat(Enumerable.Repeat("id ", 60)) + "}";
        var spreads = await client.GraphQLAsync("{ me { " + string.Concat(Enumerable.Repeat("...Many ", 10)) + "} } " + fragment);
        spreads.AssertError("VALIDATION_ERROR", 400);
        Assert.Contains($"more than {max} fields", spreads.Body.ToJsonString(), StringComparison.Ordinal);

        // A fragment that is never spread is still validated: it counts too.
        var unused = await client.GraphQLAsync("{ __typename } fragment Unused on Query { me { " + string.Concat(Enumerable.Repeat("id ", max)) + "} }");
        unused.AssertError("VALIDATION_ERROR", 400);
        Assert.Contains($"more than {max} fields", unused.Body.ToJsonString(), StringComparison.Ordinal);

        // A chain of 700 fragments, and 1,600 repeated directives on one field (validation reports each): over the
        // node limit, which counts the document as written, before anything else.
        var nodes = Groundwork.Platform.GraphQLServer.GraphQLLimits.MaxNodes;
        var chain = "{ me { ...C0 } } " + string.Concat(Enumerable.Range(0, 700).Select(i => $"fragment C{i} on User {{ ...C{i + 1} }} ")) + "fragment C700 on User { id }";
        var directives = "{ me " + string.Concat(Enumerable.Repeat("@x ", 1_600)) + "{ id } }";
        foreach (var large in new[] { chain, directives })
        {
            var refusal = await client.GraphQLAsync(large);
            refusal.AssertError("VALIDATION_ERROR", 400);
            Assert.Single(refusal.Errors);
            Assert.Contains($"more than {nodes} nodes", refusal.Body.ToJsonString(), StringComparison.Ordinal);
        }
    }


    /// <summary>
    /// Mutation fields are non-null, so one failing root field nulls all of <c>data</c>: the errors then name the
    /// root fields that were applied (<c>extensions.applied</c>), whose changes stand. Two keyed mutations under one
    /// <c>Idempotency-Key</c> header (the second refused as a reuse), a valid one before an invalid one, and after.
    /// </summary>
    /// <summary>
    /// One response name selected many times in one selection set: the field-merge rule compares every pair and
    /// reports each conflicting one, so 499 <c>posts(a: N)</c> (6 KB) made 125,000 errors, 38 MB and 2 s of CPU.
    /// At most 30 per selection set, counting the fields fragments bring in; refused before validation.
    /// </summary>
    [Fact]
    public async Task A_response_name_selected_more_than_30_times_in_one_selection_set_is_refused_before_validation()
    {
        var user = await app.ActorAsync(Role.User);
        var client = user.Client();
        var same = Groundwork.Platform.GraphQLServer.GraphQLLimits.MaxSameName;
        var thirty = (await client.GraphQLAsync("{ me { " + string.Concat(Enumerable.Repeat("id ", same)) + "} }")).AssertData();
        Assert.Equal(user.Id.ToString(), thirty["me"]!["id"]!.GetValue<string>());

        var conflicting = await app.CreateClient().GraphQLAsync("{ " + string.Concat(Enumerable.Range(0, same + 1).Select(i => $"posts(a: {i}) ")) + "}");
        conflicting.AssertError("VALIDATION_ERROR", 400);
        Assert.Single(conflicting.Errors);
        Assert.Contains($"is selected more than {same} times", conflicting.Body.ToJsonString(), StringComparison.Ordinal);

        // Fields brought in by fragments at the same level count with the set's own.
        var fragments = string.Concat(Enumerable.Range(0, same + 1).Select(i => $"fragment F{i} on Query {{ posts(a: {i}) {{ id }} }} "));
        var spread = await app.CreateClient().GraphQLAsync("{ " + string.Concat(Enumerable.Range(0, same + 1).Select(i => $"...F{i} ")) + "} " + fragments);
        spread.AssertError("VALIDATION_ERROR", 400);
        Assert.Contains($"is selected more than {same} times", spread.Body.ToJsonString(), StringComparison.Ordinal);
    }

    /// <summary>An answer lists at most 100 errors, then says how many it left out (here 299 unknown directives).</summary>
    [Fact]
    public async Task An_answer_lists_at_most_100_errors_and_says_how_many_it_left_out()
    {
        var response = await app.CreateClient().GraphQLAsync("{ posts " + string.Concat(Enumerable.Repeat("@nope ", 399)) + "{ id } }");
        response.AssertError("VALIDATION_ERROR", 400);
        Assert.Equal(101, response.Errors.Count);
        Assert.Equal("299 more errors were left out", response.Errors[100]!["message"]!.GetValue<string>());
        Assert.Equal("VALIDATION_ERROR", response.Errors[100]!["extensions"]!["code"]!.GetValue<string>());
    }

    [Fact]
    public async Task When_a_mutation_field_fails_the_errors_name_the_fields_that_were_applied()
    {
        var author = await app.ActorAsync();
        var client = author.Client();
        var run = Guid.NewGuid().ToString("N")[..8];
        client.DefaultRequestHeaders.Add("Idempotency-Key", $"shared-{run}");
        var shared = await client.GraphQLAsync($$"""
            mutation {
              one: createPost(input: { title: "One {{run}}", content: "c" }) { id }
              two: createPost(input: { title: "Two {{run}}", content: "c" }) { id }
            }
            """);
        Assert.Equal(["one"], Applied(shared, "IDEMPOTENCY_KEY_REUSED"));
        Assert.Equal([$"One {run}"], await app.Db(db => db.Posts.Where(p => p.AuthorId == author.Id && p.Title.EndsWith(run)).Select(p => p.Title).ToListAsync()));

        var plain = author.Client();
        var invalid = await plain.GraphQLAsync($$"""
            mutation {
              kept: createPost(input: { title: "Kept {{run}}", content: "c" }) { id }
              refused: createPost(input: { title: "", content: "c" }) { id }
            }
            """);
        Assert.Equal(["kept"], Applied(invalid, "VALIDATION_ERROR"));
        Assert.Equal(1, await app.Db(db => db.Posts.CountAsync(p => p.AuthorId == author.Id && p.Title == $"Kept {run}")));

        // The fields after a failed one still run (GraphQL executes every root field): those are named too.
        var first = await plain.GraphQLAsync($$"""
            mutation {
              refused: createPost(input: { title: "", content: "c" }) { id }
              after: createPost(input: { title: "After {{run}}", content: "c" }) { id }
            }
            """);
        Assert.Equal(["after"], Applied(first, "VALIDATION_ERROR"));
        Assert.Equal(1, await app.Db(db => db.Posts.CountAsync(p => p.AuthorId == author.Id && p.Title == $"After {run}")));

        // Nothing applied, nothing named.
        var none = await plain.GraphQLAsync("""mutation { refused: createPost(input: { title: "", content: "c" }) { id } }""");
        Assert.Null(none.AssertError("VALIDATION_ERROR")["extensions"]!["applied"]);

        // The one error's code, data null, and the root fields it names as applied.
        static IEnumerable<string> Applied(GraphQLResponse response, string code)
        {
            var error = response.AssertError(code);
            Assert.Null(response.Data);
            return error["extensions"]!["applied"]!.AsArray().Select(a => a!.GetValue<string>());
        }
    }

    [Fact]
    public async Task A_document_seen_before_is_still_checked_against_each_requests_variables()
    {
        var client = (await app.ActorAsync(Role.Admin)).Client();
        await app.ActorAsync(Role.User); // at least two users to list
        var execution = app.Services.GetRequiredService<Groundwork.Platform.GraphQLServer.GraphQLExecution>();
        // The text is the cache's key: a comment makes this run's documents new to the node.
        var run = Guid.NewGuid().ToString("N");
        var sized = $"query Sized($n: Int!) {{ users(limit: $n) {{ nodes {{ id }} }} }} # {run}";
        var costly = $"query Costly($n: Int!) {{ users(limit: $n) {{ nodes {{ a: posts {{ author {{ id name }} }} b: posts {{ author {{ id name }} }} }} }} }} # {run}";

        // Refused the first time: nothing is kept.
        var known = execution.KeptDocumentCount;
        Assert.Contains("between", (await client.GraphQLAsync(sized, new { n = 1000 })).AssertError("VALIDATION_ERROR", 400)["message"]!.GetValue<string>(), StringComparison.Ordinal);
        Assert.Contains("complex", (await client.GraphQLAsync(costly, new { n = 100 })).AssertError("VALIDATION_ERROR", 400)["message"]!.GetValue<string>(), StringComparison.Ordinal);
        Assert.Equal(known, execution.KeptDocumentCount);
        Assert.False(execution.ParseOrReuse(sized).PassedBefore);

        // Accepted: kept, and the same text again is the kept document, still answering for its own variables.
        Assert.Equal(2, (await client.GraphQLAsync(sized, new { n = 2 })).AssertData()["users"]!["nodes"]!.AsArray().Count);
        (await client.GraphQLAsync(costly, new { n = 2 })).AssertData();
        Assert.Equal(known + 2, execution.KeptDocumentCount);
        var kept = execution.ParseOrReuse(sized);
        Assert.True(kept.PassedBefore);
        Assert.Same(kept.Document, execution.ParseOrReuse(sized).Document);
        Assert.Single((await client.GraphQLAsync(sized, new { n = 1 })).AssertData()["users"]!["nodes"]!.AsArray());
        Assert.Equal(known + 2, execution.KeptDocumentCount);

        // A kept document with variables that break a limit is refused as before: argument ranges and the cost of
        // the lists asked for are checked on every request.
        Assert.Contains("between", (await client.GraphQLAsync(sized, new { n = 1000 })).AssertError("VALIDATION_ERROR", 400)["message"]!.GetValue<string>(), StringComparison.Ordinal);
        Assert.Contains("complex", (await client.GraphQLAsync(costly, new { n = 100 })).AssertError("VALIDATION_ERROR", 400)["message"]!.GetValue<string>(), StringComparison.Ordinal);
        (await client.GraphQLAsync(sized, new { n = "two" })).AssertError("VALIDATION_ERROR", 400);
    }

    [Fact]
    public async Task An_empty_operation_name_is_no_name_for_the_transports_checks_as_for_the_executer()
    {
        var client = (await app.ActorAsync(Role.User)).Client();
        using var request = new HttpRequestMessage(HttpMethod.Post, "/graphql")
        {
            Content = JsonContent.Create(new { query = "subscription { postPublished { id } }", operationName = "" }),
        };
        request.Headers.Accept.Add(new System.Net.Http.Headers.MediaTypeWithQualityHeaderValue("application/graphql-response+json"));
        using var response = await client.SendAsync(request, TestContext.Current.CancellationToken);
        Assert.Equal(System.Net.HttpStatusCode.BadRequest, response.StatusCode);
        var body = await response.Content.ReadAsStringAsync(TestContext.Current.CancellationToken);
        var error = JsonNode.Parse(body)!["errors"]![0]!;
        Assert.Equal("VALIDATION_ERROR", error["extensions"]!["code"]!.GetValue<string>());
        Assert.Contains("Subscriptions are served over WebSocket", body, StringComparison.Ordinal);
        Assert.Null(JsonNode.Parse(body)!["data"]);
    }

    [Fact]
    public async Task A_users_posts_come_newest_first_with_equal_times_by_id_and_a_user_without_posts_gets_an_empty_list()
    {
        var admin = (await app.ActorAsync(Role.Admin)).Client();
        var author = await app.ActorAsync(Role.User);
        var silent = await app.ActorAsync(Role.User);
        var noon = new DateTime(2026, 1, 1, 12, 0, 0, DateTimeKind.Utc);
        var posts = await app.WithScopeAsync(async sp =>
        {
            var db = sp.GetRequiredService<Groundwork.Platform.Persistence.GroundworkDbContext>();
            var added = new[] { noon, noon.AddMinutes(5), noon, noon.AddMinutes(-5), noon }
                .Select((at, i) => new Post { AuthorId = author.Id, Title = $"P{i}", Content = "x", Published = true, PublishedAt = at, CreatedAt = at, UpdatedAt = at })
                .ToList();
            db.Posts.AddRange(added);
            await db.SaveChangesAsync();
            return added;
        });
        var expected = posts.OrderByDescending(p => p.CreatedAt).ThenByDescending(p => p.Id).Select(p => p.Id.ToString()).ToList();

        // Both users in one document: their posts load in one batch.
        var data = (await admin.GraphQLAsync($$"""{ a: user(id: "{{author.Id}}") { posts { id } } b: user(id: "{{silent.Id}}") { posts { id } } }""")).AssertData();
        Assert.Equal(expected, data["a"]!["posts"]!.AsArray().Select(p => p!["id"]!.GetValue<string>()).ToList());
        Assert.Empty(data["b"]!["posts"]!.AsArray());
    }

    [Fact]
    public async Task A_users_posts_show_drafts_only_to_their_author_and_staff()
    {
        var author = await app.ActorAsync(Role.User);
        var published = (await (await author.Client().PostAsJsonAsync("/api/v1/posts", new { title = "Out", content = "out", published = true })).AssertStatus(201))["data"]!["id"]!.GetValue<string>();
        var draft = (await (await author.Client().PostAsJsonAsync("/api/v1/posts", new { title = "Draft", content = "draft", published = false })).AssertStatus(201))["data"]!["id"]!.GetValue<string>();
        var throughThePost = $$"""{ post(id: "{{published}}") { author { posts { id } } } }""";
        static List<string> Ids(JsonNode? posts) => [.. posts!.AsArray().Select(p => p!["id"]!.GetValue<string>()).Order(StringComparer.Ordinal)];

        Assert.Equal([published], Ids((await app.CreateClient().GraphQLAsync(throughThePost)).AssertData()["post"]!["author"]!["posts"]));
        Assert.Equal([published], Ids((await (await app.ActorAsync()).Client().GraphQLAsync(throughThePost)).AssertData()["post"]!["author"]!["posts"]));
        List<string> both = [.. new[] { published, draft }.Order(StringComparer.Ordinal)];
        Assert.Equal(both, Ids((await author.Client().GraphQLAsync("{ me { posts { id } } }")).AssertData()["me"]!["posts"]));
        Assert.Equal(both, Ids((await (await app.ActorAsync(Role.Moderator)).Client().GraphQLAsync(throughThePost)).AssertData()["post"]!["author"]!["posts"]));
    }

    [Fact]
    public async Task A_users_posts_read_content_only_when_the_selection_asks_for_it()
    {
        var admin = (await app.ActorAsync(Role.Admin)).Client();
        var author = await app.ActorAsync(Role.User);
        var post = await (await author.Client().PostAsJsonAsync("/api/v1/posts", new { title = "Text", content = "the text", published = true })).AssertStatus(201);
        var postId = post["data"]!["id"]!.GetValue<string>();
        var statements = new List<string>();
        app.Sql.Counted = sql =>
        {
            if (sql.Contains("posts", StringComparison.OrdinalIgnoreCase))
            {
                lock (statements)
                {
                    statements.Add(sql);
                }
            }

            return true;
        };
        async Task<JsonNode> PostsOf(string selection, object? variables = null)
        {
            statements.Clear();
            var data = (await admin.GraphQLAsync(selection.Replace("USER", author.Id.ToString(), StringComparison.Ordinal), variables)).AssertData();
            return data["user"]!;
        }

        bool ReadContent() => statements.Any(sql => sql.Contains("content", StringComparison.OrdinalIgnoreCase));

        try
        {
            // Without content in the selection, the posts' statement does not read the column.
            var bare = await PostsOf("""{ user(id: "USER") { posts { id title } } }""");
            Assert.Equal("Text", Assert.Single(bare["posts"]!.AsArray())!["title"]!.GetValue<string>());
            Assert.Single(statements);
            Assert.False(ReadContent());

            // Selected under an alias, it is read.
            var aliased = await PostsOf("""{ user(id: "USER") { posts { body: content } } }""");
            Assert.Equal("the text", Assert.Single(aliased["posts"]!.AsArray())!["body"]!.GetValue<string>());
            Assert.True(ReadContent());

            // Left out by @include with this request's variables, it is not; included, it is.
            const string Conditional = """query($c: Boolean!) { user(id: "USER") { posts { id content @include(if: $c) } } }""";
            var excluded = await PostsOf(Conditional, new { c = false });
            Assert.Null(Assert.Single(excluded["posts"]!.AsArray())!["content"]);
            Assert.False(ReadContent());
            var included = await PostsOf(Conditional, new { c = true });
            Assert.Equal("the text", Assert.Single(included["posts"]!.AsArray())!["content"]!.GetValue<string>());
            Assert.True(ReadContent());

            // Through a fragment too; and in one document, a selection without it gets a batch of its own.
            var both = await PostsOf("""{ user(id: "USER") { withText: posts { ...Text } bare: posts { id } } } fragment Text on Post { id content }""");
            var withText = Assert.Single(both["withText"]!.AsArray())!;
            Assert.Equal("the text", withText["content"]!.GetValue<string>());
            Assert.Equal(postId, withText["id"]!.GetValue<string>());
            Assert.Equal(postId, Assert.Single(both["bare"]!.AsArray())!["id"]!.GetValue<string>());
            Assert.Equal(2, statements.Count);
            Assert.Single(statements, sql => sql.Contains("content", StringComparison.OrdinalIgnoreCase));
        }
        finally
        {
            app.Sql.Counted = _ => true;
        }
    }

    [Fact]
    public async Task GET_runs_queries_and_refuses_mutations_with_405()
    {
        var client = (await app.ActorAsync()).Client();
        var query = await client.GraphQLGetAsync("{ me { id } }");
        query.AssertData();
        Assert.StartsWith(GraphQLClient.ResponseMediaType, query.Http.Content.Headers.ContentType!.ToString(), StringComparison.Ordinal);

        var before = await app.Db(db => db.Accounts.CountAsync());
        var mutation = await client.GraphQLGetAsync("mutation { createAccount(currency: \"EUR\") { id } }");
        mutation.AssertError("METHOD_NOT_ALLOWED", 405);
        Assert.Equal("POST", mutation.Http.Content.Headers.Allow.Single());
        Assert.Equal(before, await app.Db(db => db.Accounts.CountAsync()));
    }

    [Fact]
    public async Task Malformed_requests_get_4xx_and_change_nothing()
    {
        var client = app.CreateClient();
        var before = await app.Db(db => db.Posts.CountAsync());
        const string createPost = "mutation { createPost(input: { title: \\\"T\\\", content: \\\"C\\\" }) { id } }";
        var notJson = await client.PostAsync("/graphql", new StringContent("{ \"query\": ", System.Text.Encoding.UTF8, "application/json"));
        Assert.Equal("body", (await GraphQLError(notJson, 400, "VALIDATION_ERROR"))["extensions"]!["details"]![0]!["field"]!.GetValue<string>());
        var wrongType = await client.PostAsync("/graphql", new StringContent("{\"query\": 5}", System.Text.Encoding.UTF8, "application/json"));
        Assert.Equal("query", (await GraphQLError(wrongType, 400, "VALIDATION_ERROR"))["extensions"]!["details"]![0]!["field"]!.GetValue<string>());
        // An unpaired surrogate in a variable: a GraphQL-shaped error naming variables (not the REST envelope).
        var surrogate = await client.PostAsync("/graphql", new StringContent("{\"query\": \"query($id: ID!) { post(id: $id) { id } }\", \"variables\": {\"id\": \"\\ud800\"}}", System.Text.Encoding.UTF8, "application/json"));
        Assert.Equal("variables", (await GraphQLError(surrogate, 400, "VALIDATION_ERROR"))["extensions"]!["details"]![0]!["field"]!.GetValue<string>());
        // A member sent twice is refused, not read as its last value.
        var twice = await client.PostAsync("/graphql", new StringContent("{\"query\": \"{ posts { id } }\", \"query\": \"" + createPost + "\"}", System.Text.Encoding.UTF8, "application/json"));
        Assert.Equal("body", (await GraphQLError(twice, 400, "VALIDATION_ERROR"))["extensions"]!["details"]![0]!["field"]!.GetValue<string>());
        var form = await client.PostAsync("/graphql", new StringContent("query=" + createPost, System.Text.Encoding.UTF8, "application/x-www-form-urlencoded"));
        await GraphQLError(form, 415, "UNSUPPORTED_MEDIA_TYPE");
        var put = await client.PutAsJsonAsync("/graphql", new { query = "{ me { id } }" });
        await put.AssertError(405, "METHOD_NOT_ALLOWED");
        var huge = await client.PostAsync("/graphql", new StringContent("{\"query\": \"" + createPost + "\", \"variables\": {\"pad\": \"" + new string('x', 1_100_000) + "\"}}", System.Text.Encoding.UTF8, "application/json"));
        await huge.AssertError(413, "PAYLOAD_TOO_LARGE");
        Assert.Equal(before, await app.Db(db => db.Posts.CountAsync()));
    }

    private static async Task<JsonNode> GraphQLError(HttpResponseMessage response, int status, string code)
    {
        var text = await response.Content.ReadAsStringAsync();
        Assert.True((int)response.StatusCode == status, $"Expected {status}, got {(int)response.StatusCode}: {text}");
        var error = JsonNode.Parse(text)!["errors"]![0]!;
        Assert.Equal(code, error["extensions"]!["code"]!.GetValue<string>());
        return error;
    }
}

public sealed class GraphQLTestsOnSqlite(SqliteApp app) : GraphQLTests(app), IClassFixture<SqliteApp>;

public sealed class GraphQLTestsOnPostgres(PostgresApp app) : GraphQLTests(app), IClassFixture<PostgresApp>;

/// <summary>Cursor pages of posts: GraphQL connections and REST's ?cursor= lists walk the same keyset.</summary>
public abstract class PostCursorTests(GroundworkApp app)
{
    [Fact]
    public async Task Connections_and_cursor_lists_page_through_every_post_once_newest_first_even_with_equal_timestamps()
    {
        var author = await app.ActorAsync();
        var same = DateTime.UtcNow.AddMinutes(-5);
        // Five posts, three sharing one timestamp: the id breaks the tie, so no page repeats or skips one.
        var created = new List<Guid>();
        await app.WithScopeAsync(async sp =>
        {
            var db = sp.GetRequiredService<Groundwork.Platform.Persistence.GroundworkDbContext>();
            for (var i = 0; i < 5; i++)
            {
                var at = i < 3 ? same : same.AddSeconds(i);
                var post = new Groundwork.Features.Posts.Post { AuthorId = author.Id, Title = $"P{i}", Content = "x", Published = true, PublishedAt = at, CreatedAt = at, UpdatedAt = at };
                db.Posts.Add(post);
                created.Add(post.Id);
            }

            return await db.SaveChangesAsync();
        });
        var expected = (await app.Db(db => db.Posts.Where(p => p.AuthorId == author.Id)
            .OrderByDescending(p => p.CreatedAt).ThenByDescending(p => p.Id).Select(p => p.Id).ToListAsync()));
        var expectedIds = expected.Select(id => id.ToString()).ToList();
        Assert.Equal(5, expected.Count);

        var client = author.Client();
        var viaGraphQL = new List<string>();
        string? after = null;
        for (var pages = 0; pages < 10; pages++)
        {
            var afterArg = after is null ? "" : $", after: \"{after}\"";
            var connection = (await client.GraphQLAsync($$"""{ me { postsConnection(first: 2{{afterArg}}) { nodes { id } pageInfo { hasNextPage endCursor } } } }"""))
                .AssertData()["me"]!["postsConnection"]!;
            viaGraphQL.AddRange(connection["nodes"]!.AsArray().Select(n => n!["id"]!.GetValue<string>()));
            after = connection["pageInfo"]!["endCursor"]?.GetValue<string>();
            Assert.Equal(after is not null, connection["pageInfo"]!["hasNextPage"]!.GetValue<bool>());
            if (after is null)
            {
                break;
            }
        }

        Assert.Equal(expectedIds, viaGraphQL);

        // REST: an empty cursor starts a cursor list; links.next carries the filters and the next cursor.
        var viaRest = new List<string>();
        var page = await (await client.GetAsync($"/api/v1/posts?authorId={author.Id}&limit=2&cursor=")).AssertStatus(200);
        for (var pages = 0; pages < 10; pages++)
        {
            viaRest.AddRange(page["data"]!.AsArray().Select(p => p!["id"]!.GetValue<string>()));
            Assert.Equal(2, page["meta"]!["limit"]!.GetValue<int>());
            var link = page["links"]!["next"]?.GetValue<string>();
            Assert.Equal(link is not null, page["meta"]!["hasMore"]!.GetValue<bool>());
            if (link is null)
            {
                break;
            }

            Assert.Contains($"authorId={author.Id}", link, StringComparison.Ordinal);
            page = await (await client.GetAsync(link)).AssertStatus(200);
        }

        Assert.Equal(expectedIds, viaRest);
        Assert.Contains("cursor", (await (await client.GetAsync("/api/v1/posts?cursor=not-a-cursor")).AssertError(400, "VALIDATION_ERROR")).Fields());
        Assert.Contains("page", (await (await client.GetAsync("/api/v1/posts?cursor=&page=2")).AssertError(400, "VALIDATION_ERROR")).Fields());
    }
}

public sealed class PostCursorTestsOnSqlite(SqliteApp app) : PostCursorTests(app), IClassFixture<SqliteApp>;

public sealed class PostCursorTestsOnPostgres(PostgresApp app) : PostCursorTests(app), IClassFixture<PostgresApp>;
