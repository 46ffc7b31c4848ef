using Grpc.Core;
using Groundwork.Api.V1;
using Groundwork.Features.Ledger;
using Groundwork.Platform.GrpcServer;
using AccountMessage = Groundwork.Api.V1.Account;
using TransactionMessage = Groundwork.Api.V1.Transaction;
using TransactionTypeMessage = Groundwork.Api.V1.TransactionType;

namespace Groundwork.Features.Accounts;

/// <summary>gRPC adapter for accounts and money movement (api/protos/groundwork/v1/accounts.proto): translation only.</summary>
public sealed class AccountsGrpc : AccountService.AccountServiceBase
{
    public override async Task<AccountMessage> GetAccount(Api.V1.GetAccountRequest request, ServerCallContext context) =>
        ToMessage(await context.RunAsync(context.Operation<GetAccount>(), new GetAccountRequest(GrpcOperations.ParseId(request.Id, "id"))));

    public override async Task<ListAccountsResponse> ListAccounts(Api.V1.ListAccountsRequest request, ServerCallContext context)
    {
        var page = await context.RunAsync(context.Operation<ListAccounts>(), new ListAccountsRequest(
            GrpcPaging.ToPageRequest(request.Page),
            GrpcOperations.ParseOptionalId(request.OwnerId, "ownerId"),
            request.Currency is { Length: > 0 } c ? c : null));
        return new ListAccountsResponse { Accounts = { page.Items.Select(ToMessage) }, PageInfo = GrpcPaging.ToPageInfo(page) };
    }

    public override async Task<AccountMessage> CreateAccount(Api.V1.CreateAccountRequest request, ServerCallContext context) =>
        ToMessage(await context.RunAsync(context.Operation<CreateAccount>(), new CreateAccountRequest(request.Currency)));

    public override async Task<TransactionMessage> Deposit(Api.V1.DepositRequest request, ServerCallContext context) =>
        ToMessage(await context.RunAsync(context.Operation<Deposit>(), new DepositRequest(
            GrpcOperations.ParseId(request.AccountId, "accountId"), request.Amount, request.Description is { Length: > 0 } d ? d : null)));

    public override async Task<TransactionMessage> Transfer(Api.V1.TransferRequest request, ServerCallContext context) =>
        ToMessage(await context.RunAsync(context.Operation<Transfer>(), new TransferRequest(
            GrpcOperations.ParseId(request.FromAccountId, "fromAccountId"),
            GrpcOperations.ParseId(request.ToAccountId, "toAccountId"),
            request.Amount,
            request.Description is { Length: > 0 } d ? d : null)));

    public override async Task<TransactionMessage> GetTransfer(Api.V1.GetTransferRequest request, ServerCallContext context) =>
        ToMessage(await context.RunAsync(context.Operation<GetTransfer>(), new GetTransferRequest(GrpcOperations.ParseId(request.Id, "id"))));

    public override async Task<ListTransactionsResponse> ListTransactions(ListTransactionsRequest request, ServerCallContext context)
    {
        var page = await context.RunAsync(context.Operation<ListAccountTransactions>(), new ListAccountTransactionsRequest(
            GrpcOperations.ParseId(request.AccountId, "accountId"), request.Limit == 0 ? 20 : request.Limit, request.Cursor is { Length: > 0 } c ? c : null));
        return new ListTransactionsResponse { Transactions = { page.Items.Select(ToMessage) }, HasMore = page.HasMore, NextCursor = page.NextCursor ?? "" };
    }

    private static AccountMessage ToMessage(AccountDto account) => new()
    {
        Id = account.Id.ToString(),
        OwnerId = account.OwnerId?.ToString() ?? "",
        Currency = account.Currency,
        Balance = account.Balance,
        CreatedAt = GrpcOperations.Time(account.CreatedAt),
    };

    private static TransactionMessage ToMessage(TransactionDto t) => new()
    {
        Id = t.Id.ToString(),
        Type = t.Type switch
        {
            Ledger.TransactionType.Transfer => TransactionTypeMessage.Transfer,
            Ledger.TransactionType.Deposit => TransactionTypeMessage.Deposit,
            Ledger.TransactionType.Payment => TransactionTypeMessage.Payment,
            _ => TransactionTypeMessage.Refund,
        },
        Amount = t.Amount,
        Currency = t.Currency,
        FromAccountId = t.FromAccountId.ToString(),
        ToAccountId = t.ToAccountId.ToString(),
        OrderId = t.OrderId?.ToString() ?? "",
        Description = t.Description ?? "",
        CreatedAt = GrpcOperations.Time(t.CreatedAt),
    };
}
