using System.Net.Http.Json;
using System.Text.Json.Nodes;
using Google.Protobuf;
using Google.Protobuf.WellKnownTypes;
using Google.Rpc;
using Grpc.Core;
using Grpc.Health.V1;
using Grpc.Reflection.V1Alpha;
using Groundwork.Api.V1;
using Groundwork.Tests.Infrastructure;

using Microsoft.EntityFrameworkCore;
using Npgsql;
using Role = Groundwork.Platform.Auth.Role;

namespace Groundwork.Tests.Transports;

/// <summary>Every gRPC service through a real Grpc.Net.Client channel to the h2c port of a running server.</summary>
public abstract class GrpcTests(GroundworkApp app)
{
    protected GroundworkApp App => app;

    public static Metadata Bearer(string token) => new() { { "authorization", $"Bearer {token}" } };

    public static Metadata Keyed(string token, string key) => new() { { "authorization", $"Bearer {token}" }, { "idempotency-key", key } };

    /// <summary>Asserts the status and the <c>google.rpc.ErrorInfo</c> reason (the catalogue code, docs/api/errors.md); returns the rich status.</summary>
    public static async Task<Google.Rpc.Status> AssertRpcError(Func<Task> call, StatusCode code, string reason)
    {
        var e = await Assert.ThrowsAsync<RpcException>(call);
        Assert.True(e.StatusCode == code, $"Expected {code} {reason}, got {e.StatusCode}: {e.Status.Detail}");
        var status = e.GetRpcStatus();
        Assert.NotNull(status);
        Assert.Equal(reason, status.GetDetail<ErrorInfo>()!.Reason);
        Assert.DoesNotContain("Exception", e.Status.Detail, StringComparison.Ordinal);
        return status;
    }

    [Fact]
    public async Task Health_is_serving_and_reflection_lists_every_service()
    {
        using var channel = app.GrpcChannel();
        var health = await new Health.HealthClient(channel).CheckAsync(new HealthCheckRequest());
        Assert.Equal(HealthCheckResponse.Types.ServingStatus.Serving, health.Status);

        using var call = new ServerReflection.ServerReflectionClient(channel).ServerReflectionInfo();
        await call.RequestStream.WriteAsync(new ServerReflectionRequest { ListServices = "" });
        await call.RequestStream.CompleteAsync();
        Assert.True(await call.ResponseStream.MoveNext(TestContext.Current.CancellationToken));
        var services = call.ResponseStream.Current.ListServicesResponse.Service.Select(s => s.Name).ToList();
        foreach (var name in new[] { "groundwork.v1.UserService", "groundwork.v1.PostService", "groundwork.v1.OrderService", "groundwork.v1.AccountService", "groundwork.v1.AuthService", "grpc.health.v1.Health" })
        {
            Assert.Contains(name, services);
        }
    }

    [Fact]
    public async Task AuthService_logs_in_and_refreshes_and_refuses_bad_credentials_alike()
    {
        using var channel = app.GrpcChannel();
        var auth = new AuthService.AuthServiceClient(channel);
        var user = await app.ActorAsync();
        var pair = await auth.LoginAsync(new LoginRequest { Email = user.Email, Password = user.Password });
        Assert.Equal("Bearer", pair.TokenType);
        var me = await new UserService.UserServiceClient(channel).GetMeAsync(new GetMeRequest(), Bearer(pair.AccessToken));
        Assert.Equal(user.Email, me.Email);

        var refreshed = await auth.RefreshAsync(new RefreshRequest { RefreshToken = pair.RefreshToken });
        Assert.NotEqual(pair.RefreshToken, refreshed.RefreshToken);

        await AssertRpcError(async () => await auth.LoginAsync(new LoginRequest { Email = user.Email, Password = "wrong-password" }), StatusCode.Unauthenticated, "AUTHENTICATION_ERROR");
        await AssertRpcError(async () => await auth.LoginAsync(new LoginRequest { Email = "nobody@example.com", Password = "wrong-password" }), StatusCode.Unauthenticated, "AUTHENTICATION_ERROR");
        await AssertRpcError(async () => await new UserService.UserServiceClient(channel).GetMeAsync(new GetMeRequest(), Bearer("forged.token.here")), StatusCode.Unauthenticated, "AUTHENTICATION_ERROR");
        await AssertRpcError(async () => await new UserService.UserServiceClient(channel).GetMeAsync(new GetMeRequest()), StatusCode.Unauthenticated, "AUTHENTICATION_ERROR");
    }

    [Fact]
    public async Task UserService_maps_validation_duplicates_and_authorization_to_their_statuses()
    {
        using var channel = app.GrpcChannel();
        var users = new UserService.UserServiceClient(channel);
        var admin = await app.ActorAsync(Role.Admin);
        var user = await app.ActorAsync();
        var email = GroundworkApp.UniqueEmail("grpc");

        var created = await users.CreateUserAsync(new CreateUserRequest { Email = email, Name = "Via gRPC", Password = "grpc-password-123", Role = Api.V1.Role.Moderator }, Bearer(admin.AccessToken));
        Assert.Equal(Api.V1.Role.Moderator, created.Role);
        Assert.Equal(Role.Moderator, (await app.Db(db => db.Set<Groundwork.Features.Users.User>().AsNoTracking().SingleAsync(u => u.Id == Guid.Parse(created.Id)))).Role);

        var invalid = await AssertRpcError(async () => await users.CreateUserAsync(new CreateUserRequest { Email = "nope", Name = "X", Password = "short" }, Bearer(admin.AccessToken)),
            StatusCode.InvalidArgument, "VALIDATION_ERROR");
        var fields = invalid.GetDetail<BadRequest>()!.FieldViolations.Select(v => v.Field).ToList();
        Assert.Contains("email", fields);
        Assert.Contains("password", fields);

        await AssertRpcError(async () => await users.CreateUserAsync(new CreateUserRequest { Email = email, Name = "Again", Password = "grpc-password-123" }, Bearer(admin.AccessToken)),
            StatusCode.AlreadyExists, "CONFLICT");
        await AssertRpcError(async () => await users.ListUsersAsync(new ListUsersRequest(), Bearer(user.AccessToken)), StatusCode.PermissionDenied, "AUTHORIZATION_ERROR");
        await AssertRpcError(async () => await users.GetUserAsync(new GetUserRequest { Id = admin.Id.ToString() }, Bearer(user.AccessToken)), StatusCode.NotFound, "NOT_FOUND");
        await AssertRpcError(async () => await users.GetUserAsync(new GetUserRequest { Id = "not-a-guid" }, Bearer(user.AccessToken)), StatusCode.InvalidArgument, "VALIDATION_ERROR");

        var page = await users.ListUsersAsync(new ListUsersRequest { Page = new PageRequest { Limit = 2 }, Role = Api.V1.Role.Moderator }, Bearer(admin.AccessToken));
        Assert.All(page.Users, u => Assert.Equal(Api.V1.Role.Moderator, u.Role));
        Assert.Equal(await app.Db(db => db.Set<Groundwork.Features.Users.User>().CountAsync(u => u.Role == Role.Moderator)), page.PageInfo.Total);

        // A role number the enum does not define is refused, not read as "no role": it created a plain user and
        // listed every user.
        var usersBefore = await app.Db(db => db.Set<Groundwork.Features.Users.User>().CountAsync());
        var unknownRole = await AssertRpcError(async () => await users.CreateUserAsync(new CreateUserRequest { Email = GroundworkApp.UniqueEmail(), Name = "X", Password = "grpc-password-123", Role = (Api.V1.Role)99 }, Bearer(admin.AccessToken)),
            StatusCode.InvalidArgument, "VALIDATION_ERROR");
        Assert.Equal("role", unknownRole.GetDetail<BadRequest>()!.FieldViolations.Single().Field);
        Assert.Equal(usersBefore, await app.Db(db => db.Set<Groundwork.Features.Users.User>().CountAsync()));
        await AssertRpcError(async () => await users.ListUsersAsync(new ListUsersRequest { Role = (Api.V1.Role)99 }, Bearer(admin.AccessToken)), StatusCode.InvalidArgument, "VALIDATION_ERROR");

        var renamed = await users.UpdateUserAsync(new UpdateUserRequest { Id = user.Id.ToString(), Name = "Renamed by self" }, Bearer(user.AccessToken));
        Assert.Equal("Renamed by self", renamed.Name);
        Assert.Equal(user.Email, renamed.Email); // unset fields do not change
        await users.DeleteUserAsync(new DeleteUserRequest { Id = created.Id }, Bearer(admin.AccessToken));
        Assert.False(await app.Db(db => db.Set<Groundwork.Features.Users.User>().AnyAsync(u => u.Id == Guid.Parse(created.Id))));
    }

    [Fact]
    public async Task A_post_read_on_every_transport_counts_a_view_each_and_every_transport_reports_the_count()
    {
        using var channel = app.GrpcChannel();
        var posts = new PostService.PostServiceClient(channel);
        var author = await app.ActorAsync();
        var created = await posts.CreatePostAsync(new CreatePostRequest { Title = "Counted", Content = "Body", Published = true }, Bearer(author.AccessToken));

        await posts.GetPostAsync(new GetPostRequest { Id = created.Id });
        (await app.CreateClient().GraphQLAsync($"{{ post(id: \"{created.Id}\") {{ title }} }}")).AssertData();
        await (await app.CreateClient().GetAsync($"/api/v1/posts/{created.Id}")).AssertStatus(200);

        Assert.Equal(3, (await posts.GetPostViewsAsync(new GetPostRequest { Id = created.Id })).Views);
        var viaGraphQL = (await app.CreateClient().GraphQLAsync($"{{ postViews(id: \"{created.Id}\") {{ postId views }} }}")).AssertData();
        Assert.Equal(3, viaGraphQL["postViews"]!["views"]!.GetValue<long>());
        Assert.Equal(3, (await (await app.CreateClient().GetAsync($"/api/v1/posts/{created.Id}/views")).AssertStatus(200))["data"]!["views"]!.GetValue<long>());

        var draft = await posts.CreatePostAsync(new CreatePostRequest { Title = "Hidden", Content = "Body" }, Bearer(author.AccessToken));
        await AssertRpcError(async () => await posts.GetPostViewsAsync(new GetPostRequest { Id = draft.Id }), StatusCode.NotFound, "NOT_FOUND");
    }

    [Fact]
    public async Task PostService_writes_publishes_and_hides_drafts_from_others()
    {
        using var channel = app.GrpcChannel();
        var posts = new PostService.PostServiceClient(channel);
        var author = await app.ActorAsync();
        var other = await app.ActorAsync();

        var draft = await posts.CreatePostAsync(new CreatePostRequest { Title = "Draft", Content = "Body" }, Bearer(author.AccessToken));
        Assert.False(draft.Published);
        Assert.Null(draft.PublishedAt);
        await AssertRpcError(async () => await posts.GetPostAsync(new GetPostRequest { Id = draft.Id }, Bearer(other.AccessToken)), StatusCode.NotFound, "NOT_FOUND");
        await AssertRpcError(async () => await posts.PublishPostAsync(new PublishPostRequest { Id = draft.Id }, Bearer(other.AccessToken)), StatusCode.NotFound, "NOT_FOUND");

        var published = await posts.PublishPostAsync(new PublishPostRequest { Id = draft.Id }, Bearer(author.AccessToken));
        Assert.True(published.Published);
        Assert.NotNull(published.PublishedAt);
        var anonymous = await posts.GetPostAsync(new GetPostRequest { Id = draft.Id });
        Assert.Equal("Draft", anonymous.Title);

        var edited = await posts.UpdatePostAsync(new UpdatePostRequest { Id = draft.Id, Title = "Edited" }, Bearer(author.AccessToken));
        Assert.Equal("Edited", edited.Title);
        Assert.Equal("Body", edited.Content);
        var list = await posts.ListPostsAsync(new ListPostsRequest { AuthorId = author.Id.ToString(), Published = true });
        Assert.Equal(draft.Id, Assert.Single(list.Posts).Id);

        await posts.DeletePostAsync(new DeletePostRequest { Id = draft.Id }, Bearer(author.AccessToken));
        await AssertRpcError(async () => await posts.GetPostAsync(new GetPostRequest { Id = draft.Id }), StatusCode.NotFound, "NOT_FOUND");
    }

    /// <summary>
    /// A request message that cannot be parsed (bytes that are not protobuf; a string field that is not UTF-8) is the
    /// client's error: INVALID_ARGUMENT with VALIDATION_ERROR, and nothing runs. Grpc.AspNetCore parses it before any
    /// interceptor and answered UNKNOWN, "Exception was thrown by handler."
    /// </summary>
    [Fact]
    public async Task A_request_message_that_cannot_be_parsed_is_INVALID_ARGUMENT_and_runs_nothing()
    {
        using var channel = app.GrpcChannel();
        var admin = await app.ActorAsync(Role.Admin);
        var owner = await app.ActorAsync();
        var from = await owner.OpenAccountAsync();
        var to = await (await app.ActorAsync()).OpenAccountAsync();
        await admin.DepositAsync(from, 1_000);
        var invoker = channel.CreateCallInvoker();
        Method<byte[], byte[]> Raw(string service, string name) => new(MethodType.Unary, service, name, Marshallers.Create(b => b, b => b), Marshallers.Create(b => b, b => b));

        var garbage = await AssertRpcError(async () => await invoker.AsyncUnaryCall(Raw("groundwork.v1.AccountService", "GetAccount"), null,
            new CallOptions(Bearer(owner.AccessToken)), [0xff, 0xff, 0xff, 0xff]), StatusCode.InvalidArgument, "VALIDATION_ERROR");
        Assert.Equal("message", garbage.GetDetail<BadRequest>()!.FieldViolations.Single().Field);

        // A valid transfer, its description (field 4) replaced by bytes that are not UTF-8.
        var valid = new TransferRequest { FromAccountId = from.ToString(), ToAccountId = to.ToString(), Amount = 300 }.ToByteArray();
        byte[] notUtf8 = [.. valid, 0x22, 0x02, 0xff, 0xfe];
        await AssertRpcError(async () => await invoker.AsyncUnaryCall(Raw("groundwork.v1.AccountService", "Transfer"), null,
            new CallOptions(Keyed(owner.AccessToken, Guid.NewGuid().ToString())), notUtf8), StatusCode.InvalidArgument, "VALIDATION_ERROR");
        Assert.Equal(1_000, await app.BalanceAsync(from));
        Assert.Equal(0, await app.BalanceAsync(to));

        // Frames whose 5-byte prefix Grpc.AspNetCore's reader fails on: a compression flag other than 0/1, a length
        // past 2^31 - 1; then gzip-flagged messages: bytes that are not gzip data (a gzip header, then a deflate
        // block of a type that does not exist), the request's empty message really gzipped, and a gzip bomb. Sent over raw
        // HTTP/2, since a gRPC client frames and compresses every message correctly.
        byte[] notGzip = [0x1f, 0x8b, 0x08, 0, 0, 0, 0, 0, 0, 0x03, 0xff, 0xff, 0xff, 0xff];
        static byte[] Compressed(byte[] message) => [0x01, (byte)(message.Length >> 24), (byte)(message.Length >> 16), (byte)(message.Length >> 8), (byte)message.Length, .. message];
        static byte[] Gzip(byte[] data)
        {
            using var output = new MemoryStream();
            using (var gzip = new System.IO.Compression.GZipStream(output, System.IO.Compression.CompressionLevel.Fastest))
            {
                gzip.Write(data);
            }

            return output.ToArray();
        }

        using var http2 = new HttpClient();
        foreach (var (frame, status) in new (byte[], string)[]
                 {
                     ([0x02, 0, 0, 0, 0], "3"), ([0x00, 0xff, 0xff, 0xff, 0xff], "8"),
                     (Compressed(notGzip), "3"), (Compressed(Gzip(new HealthCheckRequest().ToByteArray())), "0"),
                     // 2 KB on the wire, 2 MiB decompressed: the 1 MiB message limit applies to the decompressed size too.
                     (Compressed(Gzip(new byte[2 * 1024 * 1024])), "8"),
                 })
        {
            using var request = new HttpRequestMessage(HttpMethod.Post, $"http://127.0.0.1:{app.GrpcPort}/grpc.health.v1.Health/Check")
            {
                Content = new ByteArrayContent(frame),
                Version = System.Net.HttpVersion.Version20,
                VersionPolicy = HttpVersionPolicy.RequestVersionExact,
            };
            request.Content.Headers.ContentType = new("application/grpc");
            request.Headers.TE.ParseAdd("trailers");
            if (frame[0] == 0x01)
            {
                request.Headers.Add("grpc-encoding", "gzip");
            }
            using var response = await http2.SendAsync(request, TestContext.Current.CancellationToken);
            await response.Content.ReadAsByteArrayAsync(TestContext.Current.CancellationToken);
            var grpcStatus = response.Headers.TryGetValues("grpc-status", out var values) ? values.Single() : response.TrailingHeaders.GetValues("grpc-status").Single();
            Assert.Equal(status, grpcStatus);
        }

        // The same bytes without the bad field: parsed, and the transfer runs.
        var moved = await invoker.AsyncUnaryCall(Raw("groundwork.v1.AccountService", "Transfer"), null, new CallOptions(Keyed(owner.AccessToken, Guid.NewGuid().ToString())), valid);
        Assert.Equal(300, Transaction.Parser.ParseFrom(moved).Amount);
        Assert.Equal(700, await app.BalanceAsync(from));
    }

    [Fact]
    public async Task AccountService_moves_money_exactly_once_per_idempotency_key()
    {
        using var channel = app.GrpcChannel();
        var accounts = new AccountService.AccountServiceClient(channel);
        var admin = await app.ActorAsync(Role.Admin);
        var owner = await app.ActorAsync();
        var from = await accounts.CreateAccountAsync(new CreateAccountRequest { Currency = "EUR" }, Bearer(owner.AccessToken));
        var to = await (await app.ActorAsync()).OpenAccountAsync();

        await AssertRpcError(async () => await accounts.DepositAsync(new DepositRequest { AccountId = from.Id, Amount = 5_000 }, Keyed(owner.AccessToken, Guid.NewGuid().ToString())),
            StatusCode.PermissionDenied, "AUTHORIZATION_ERROR");
        var deposit = await accounts.DepositAsync(new DepositRequest { AccountId = from.Id, Amount = 5_000 }, Keyed(admin.AccessToken, Guid.NewGuid().ToString()));
        Assert.Equal(TransactionType.Deposit, deposit.Type);

        var request = new TransferRequest { FromAccountId = from.Id, ToAccountId = to.ToString(), Amount = 1_200, Description = "gRPC" };
        var noKey = await AssertRpcError(async () => await accounts.TransferAsync(request, Bearer(owner.AccessToken)), StatusCode.InvalidArgument, "VALIDATION_ERROR");
        Assert.Equal("idempotency-key", noKey.GetDetail<BadRequest>()!.FieldViolations.Single().Field);

        var key = Guid.NewGuid().ToString();
        var first = await accounts.TransferAsync(request, Keyed(owner.AccessToken, key));
        var retry = await accounts.TransferAsync(request, Keyed(owner.AccessToken, key));
        Assert.Equal(first, retry);
        Assert.Equal(3_800, await app.BalanceAsync(Guid.Parse(from.Id)));
        Assert.Equal(1_200, await app.BalanceAsync(to));

        await AssertRpcError(async () => await accounts.TransferAsync(new TransferRequest(request) { Amount = 7 }, Keyed(owner.AccessToken, key)),
            StatusCode.FailedPrecondition, "IDEMPOTENCY_KEY_REUSED");
        await AssertRpcError(async () => await accounts.TransferAsync(new TransferRequest(request) { Amount = 1_000_000 }, Keyed(owner.AccessToken, Guid.NewGuid().ToString())),
            StatusCode.FailedPrecondition, "INSUFFICIENT_FUNDS");
        var thief = await app.ActorAsync();
        await AssertRpcError(async () => await accounts.TransferAsync(request, Keyed(thief.AccessToken, Guid.NewGuid().ToString())), StatusCode.NotFound, "NOT_FOUND");
        Assert.Equal(3_800, await app.BalanceAsync(Guid.Parse(from.Id)));

        var history = await accounts.ListTransactionsAsync(new ListTransactionsRequest { AccountId = from.Id, Limit = 1 }, Bearer(owner.AccessToken));
        Assert.Equal(first.Id, Assert.Single(history.Transactions).Id);
        Assert.True(history.HasMore);
        var older = await accounts.ListTransactionsAsync(new ListTransactionsRequest { AccountId = from.Id, Limit = 5, Cursor = history.NextCursor }, Bearer(owner.AccessToken));
        Assert.Equal(deposit.Id, Assert.Single(older.Transactions).Id);
        Assert.Equal(first, await accounts.GetTransferAsync(new GetTransferRequest { Id = first.Id }, Bearer(owner.AccessToken)));
        Assert.Equal(3_800, (await accounts.GetAccountAsync(new GetAccountRequest { Id = from.Id }, Bearer(owner.AccessToken))).Balance);
        await app.AssertLedgerOkAsync(admin);
    }

    [Fact]
    public async Task OrderService_creates_pays_once_and_refunds()
    {
        using var channel = app.GrpcChannel();
        var orders = new OrderService.OrderServiceClient(channel);
        var admin = await app.ActorAsync(Role.Admin);
        var owner = await app.ActorAsync();
        var account = await owner.OpenAccountAsync();
        await admin.DepositAsync(account, 10_000);

        var order = await orders.CreateOrderAsync(new CreateOrderRequest
        {
            Currency = "EUR",
            Items = { new OrderItem { Sku = "A-1", Name = "Mug", Quantity = 3, UnitPrice = 1_000 } },
        }, Bearer(owner.AccessToken));
        Assert.Equal(3_000, order.Total);
        Assert.Equal(OrderStatus.Pending, order.Status);

        var pay = new PayOrderRequest { Id = order.Id, AccountId = account.ToString() };
        await AssertRpcError(async () => await orders.PayOrderAsync(pay, Bearer(owner.AccessToken)), StatusCode.InvalidArgument, "VALIDATION_ERROR");
        var key = Guid.NewGuid().ToString();
        var paid = await orders.PayOrderAsync(pay, Keyed(owner.AccessToken, key));
        Assert.Equal(paid, await orders.PayOrderAsync(pay, Keyed(owner.AccessToken, key)));
        Assert.Equal(OrderStatus.Paid, paid.Status);
        Assert.Equal(7_000, await app.BalanceAsync(account));
        await AssertRpcError(async () => await orders.PayOrderAsync(pay, Keyed(owner.AccessToken, Guid.NewGuid().ToString())), StatusCode.FailedPrecondition, "CONFLICT");

        var other = await app.ActorAsync();
        await AssertRpcError(async () => await orders.GetOrderAsync(new GetOrderRequest { Id = order.Id }, Bearer(other.AccessToken)), StatusCode.NotFound, "NOT_FOUND");
        var refunded = await orders.CancelOrderAsync(new CancelOrderRequest { Id = order.Id }, Bearer(owner.AccessToken));
        Assert.Equal(OrderStatus.Refunded, refunded.Status);
        Assert.Equal(10_000, await app.BalanceAsync(account));
        var mine = await orders.ListOrdersAsync(new ListOrdersRequest(), Bearer(owner.AccessToken));
        await AssertRpcError(async () => await orders.ListOrdersAsync(new ListOrdersRequest { Status = (OrderStatus)99 }, Bearer(owner.AccessToken)), StatusCode.InvalidArgument, "VALIDATION_ERROR");
        Assert.Equal(order.Id, Assert.Single(mine.Orders).Id);
        await app.AssertLedgerOkAsync(admin);
    }

    [Fact]
    public async Task A_message_over_1_MiB_is_refused_with_RESOURCE_EXHAUSTED_and_stores_nothing()
    {
        using var channel = app.GrpcChannel();
        var author = await app.ActorAsync();
        var before = await app.Db(db => db.Set<Groundwork.Features.Posts.Post>().CountAsync());
        var e = await Assert.ThrowsAsync<RpcException>(async () => await new PostService.PostServiceClient(channel)
            .CreatePostAsync(new CreatePostRequest { Title = "Big", Content = new string('x', 1_100_000) }, Bearer(author.AccessToken)));
        Assert.Equal(StatusCode.ResourceExhausted, e.StatusCode);
        Assert.Equal(before, await app.Db(db => db.Set<Groundwork.Features.Posts.Post>().CountAsync()));
    }

    [Fact]
    public async Task An_api_key_in_x_api_key_metadata_authenticates_with_its_scopes_only()
    {
        var user = await app.ActorAsync();
        var created = await (await user.Client().PostAsJsonAsync("/api/v1/api-keys", new { name = "grpc", scopes = new[] { "posts:read" } })).AssertStatus(201);
        var secret = created["data"]!["secret"]!.GetValue<string>();
        using var channel = app.GrpcChannel();
        var keyed = new Metadata { { "x-api-key", secret } };
        var posts = await new PostService.PostServiceClient(channel).ListPostsAsync(new ListPostsRequest(), keyed);
        Assert.NotNull(posts.PageInfo);
        await AssertRpcError(async () => await new AccountService.AccountServiceClient(channel).ListAccountsAsync(new ListAccountsRequest(), keyed),
            StatusCode.PermissionDenied, "AUTHORIZATION_ERROR");
    }
}

public sealed class GrpcTestsOnSqlite(SqliteServerApp app) : GrpcTests(app), IClassFixture<SqliteServerApp>;

public sealed class GrpcTestsOnPostgres(PostgresServerApp app, PostgresServer server) : GrpcTests(app), IClassFixture<PostgresServerApp>
{
    /// <summary>
    /// A transfer blocked on a row lock outlives the client's deadline: the client gets DEADLINE_EXCEEDED, the
    /// server cancels the statement in PostgreSQL (no backend left waiting), nothing moves, and the key is free.
    /// </summary>
    [Fact]
    public async Task A_deadline_that_expires_mid_query_cancels_the_database_work()
    {
        var admin = await App.ActorAsync(Role.Admin);
        var owner = await App.ActorAsync();
        var from = await owner.OpenAccountAsync();
        var to = await (await App.ActorAsync()).OpenAccountAsync();
        await admin.DepositAsync(from, 1_000);
        var database = await App.Db(db => Task.FromResult(db.Database.GetDbConnection().Database));

        await using var locker = new NpgsqlConnection(server.ConnectionString(database));
        await locker.OpenAsync(TestContext.Current.CancellationToken);
        await using var tx = await locker.BeginTransactionAsync(TestContext.Current.CancellationToken);
        await using (var lockRows = new NpgsqlCommand($"SELECT balance FROM accounts WHERE id IN ('{from}', '{to}') FOR UPDATE", locker, tx))
        {
            await lockRows.ExecuteNonQueryAsync(TestContext.Current.CancellationToken);
        }

        using var channel = App.GrpcChannel();
        var accounts = new AccountService.AccountServiceClient(channel);
        var key = Guid.NewGuid().ToString();
        var request = new TransferRequest { FromAccountId = from.ToString(), ToAccountId = to.ToString(), Amount = 400 };
        var e = await Assert.ThrowsAsync<RpcException>(async () =>
            await accounts.TransferAsync(request, Keyed(owner.AccessToken, key), deadline: DateTime.UtcNow.AddMilliseconds(800)));
        Assert.Equal(StatusCode.DeadlineExceeded, e.StatusCode);

        // The server cancels its blocked statement: soon no other backend of this database is waiting on our lock.
        var waiting = -1L;
        for (var i = 0; i < 50 && waiting != 0; i++)
        {
            await Task.Delay(100, TestContext.Current.CancellationToken);
            await using var probe = new NpgsqlCommand(
                "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid() AND wait_event_type = 'Lock'", locker, tx);
            waiting = (long)(await probe.ExecuteScalarAsync(TestContext.Current.CancellationToken))!;
        }

        Assert.Equal(0, waiting);
        await tx.RollbackAsync(TestContext.Current.CancellationToken);
        Assert.Equal(1_000, await App.BalanceAsync(from));
        Assert.Equal(0, await App.BalanceAsync(to));

        // The cancelled attempt's claim dies with its transaction, so the same request, sent at once, runs (its
        // claim waits on the dying one's row if the rollback is not finished yet) and runs once.
        var done = await accounts.TransferAsync(request, Keyed(owner.AccessToken, key));
        Assert.Equal(1, await App.Db(db => db.IdempotencyRecords.CountAsync(r => r.Key == key)));
        Assert.Equal(400, done.Amount);
        Assert.Equal(600, await App.BalanceAsync(from));
        await App.AssertLedgerOkAsync(admin);
    }
}
