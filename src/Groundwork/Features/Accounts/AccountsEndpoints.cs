using Groundwork.Features.Ledger;
using Groundwork.Platform.Http;
using Groundwork.Platform.Operations;
using Microsoft.AspNetCore.Mvc;

namespace Groundwork.Features.Accounts;

public static class AccountsEndpoints
{
    public static void MapAccounts(this RouteGroupBuilder api)
    {
        var accounts = api.MapGroup("/accounts").WithTags("Accounts").RequireAuthorization();

        accounts.MapGet("/", (HttpContext http, [FromServices] ListAccounts op) =>
            {
                var query = new QueryReader(http, "ownerId", "currency");
                var request = new ListAccountsRequest(query.Page(), query.Parse<Guid>("ownerId", Guid.TryParse, "a user id"), query.String("currency"));
                return Rest.RunAsync(http, query, op, request, page => Rest.Page(http, page));
            })
            .WithName("ListAccounts").WithSummary("List your accounts (all accounts for admins)").Produces<PageEnvelope<AccountDto>>().ProducesErrors(400, 401, 403);

        accounts.MapPost("/", (HttpContext http, [FromServices] CreateAccount op, CreateAccountRequest body) =>
                Rest.RunAsync(http, op, body, a => Rest.Created(http, $"/api/v1/accounts/{a.Id}", a)))
            .WithName("CreateAccount").WithSummary("Open an account").Produces<CreatedEnvelope<AccountDto>>(StatusCodes.Status201Created).ProducesErrors(400, 401, 403, 409, 413, 415, 422);

        accounts.MapGet("/{id:guid}", (HttpContext http, [FromServices] GetAccount op, Guid id) => Rest.RunAsync(http, op, new GetAccountRequest(id), Rest.Data))
            .WithName("GetAccount").WithSummary("Get an account and its balance").Produces<DataEnvelope<AccountDto>>().ProducesErrors(401, 403, 404);

        accounts.MapGet("/{id:guid}/transactions", (HttpContext http, [FromServices] ListAccountTransactions op, Guid id) =>
            {
                var query = QueryReader.ForCursor(http, "cursor", "after");
                var request = new ListAccountTransactionsRequest(id, query.Int("limit") ?? 20, query.String("cursor") ?? query.String("after"));
                return Rest.RunAsync(http, query, op, request, page => Rest.CursorPage(http, page));
            })
            .WithName("ListAccountTransactions").WithSummary("List an account's ledger transactions").Produces<CursorEnvelope<TransactionDto>>().ProducesErrors(400, 401, 403, 404);

        accounts.MapPost("/{id:guid}/deposits", (HttpContext http, [FromServices] Deposit op, Guid id, DepositBody body) =>
                Rest.RunAsync(http, op, new DepositRequest(id, body.Amount, body.Description), t => Rest.Created(http, $"/api/v1/accounts/{id}/transactions", t)))
            .WithName("Deposit").WithSummary("Deposit into an account (admins; Idempotency-Key required)").Produces<CreatedEnvelope<TransactionDto>>(StatusCodes.Status201Created).ProducesErrors(400, 401, 403, 404, 409, 413, 415, 422);

        api.MapPost("/transfers", (HttpContext http, [FromServices] Transfer op, TransferRequest body) =>
                Rest.RunAsync(http, op, body, t => Rest.Created(http, $"/api/v1/transfers/{t.Id}", t)))
            .RequireAuthorization().WithTags("Transfers").WithName("CreateTransfer").WithSummary("Transfer money between two accounts (Idempotency-Key required)")
            .Produces<CreatedEnvelope<TransactionDto>>(StatusCodes.Status201Created).ProducesErrors(400, 401, 403, 404, 409, 413, 415, 422);

        api.MapGet("/transfers/{id:guid}", (HttpContext http, [FromServices] GetTransfer op, Guid id) => Rest.RunAsync(http, op, new GetTransferRequest(id), Rest.Data))
            .RequireAuthorization().WithTags("Transfers").WithName("GetTransfer").WithSummary("Get a transfer").Produces<DataEnvelope<TransactionDto>>().ProducesErrors(401, 403, 404);

        api.MapGet("/admin/ledger/verify", (HttpContext http, [FromServices] VerifyLedger op) =>
                Rest.RunAsync(http, op, new VerifyLedgerRequest(), report => TypedResults.Json(report, Json.Options)))
            .RequireAuthorization().WithTags("Admin").WithName("VerifyLedger").WithSummary("Check the ledger's invariants (admins)").Produces<LedgerReport>().ProducesErrors(401, 403);
    }

    public sealed record DepositBody(long Amount, string? Description);
}
