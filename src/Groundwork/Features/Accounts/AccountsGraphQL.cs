using GraphQL;
using GraphQL.Types;
using Groundwork.Features.Ledger;
using Groundwork.Platform.GraphQLServer;
using Groundwork.Platform.Operations;

namespace Groundwork.Features.Accounts;

/// <summary>GraphQL adapter for accounts, their ledger history and transfers.</summary>
public static class AccountsGraphQL
{
    public static void AddQueries(ObjectGraphType query)
    {
        ArgumentNullException.ThrowIfNull(query);
        query.Field<AccountType>("account")
            .Argument<NonNullGraphType<IdGraphType>>("id")
            .ResolveAsync(async ctx => await ctx.RunAsync(ctx.Operation<GetAccount>(), new GetAccountRequest(ctx.GetId())));

        query.Field<NonNullGraphType<AccountConnectionType>>("accounts")
            .Description("The caller's accounts; admins may list anyone's with `ownerId`.")
            .PageArgument()
            .SizeArgument("limit")
            .Argument<IdGraphType>("ownerId")
            .Argument<StringGraphType>("currency")
            .ResolveAsync(async ctx => await ctx.RunAsync(ctx.Operation<ListAccounts>(), new ListAccountsRequest(
                ctx.PageRequest(), ctx.GetOptionalId("ownerId"), ctx.GetArgument<string?>("currency"))));

        query.Field<NonNullGraphType<TransactionConnectionType>>("transactions")
            .Description("An account's ledger history, newest first, by cursor: pass `pageInfo.endCursor` as `after`.")
            .Argument<NonNullGraphType<IdGraphType>>("accountId")
            .SizeArgument("first")
            .Argument<StringGraphType>("after")
            .ResolveAsync(async ctx => await ctx.RunAsync(ctx.Operation<ListAccountTransactions>(), new ListAccountTransactionsRequest(
                ctx.GetId("accountId"), ctx.GetArgument("first", 20), ctx.GetArgument<string?>("after"))));

        query.Field<TransactionGraphType>("transferById")
            .Argument<NonNullGraphType<IdGraphType>>("id")
            .ResolveAsync(async ctx => await ctx.RunAsync(ctx.Operation<GetTransfer>(), new GetTransferRequest(ctx.GetId())));
    }

    public static void AddSubscriptions(ObjectGraphType subscription)
    {
        ArgumentNullException.ThrowIfNull(subscription);
        subscription.Field<NonNullGraphType<AccountActivityType>>("accountActivity")
            .Description("Each credit and debit of an account the caller owns (admins: any account).")
            .Argument<NonNullGraphType<IdGraphType>>("accountId")
            .ResolveStreamAsync(async ctx =>
            {
                var accountId = ctx.GetId("accountId");
                // The account must be the caller's to see (NOT_FOUND otherwise), exactly as the account query.
                await ctx.RunAsync(ctx.Operation<GetAccount>(), new GetAccountRequest(accountId));
                return await Events.EventSubscriptions.OpenAsync(ctx, ["account.credited", "account.debited"], e =>
                    e.Subject == accountId ? new AccountActivity(e.Type == "account.credited" ? "CREDIT" : "DEBIT", e.OccurredAt, Events.EventSubscriptions.Data<AccountMovement>(e)) : null);
            })
            .Resolve(ctx => ctx.Source);
    }

    public static void AddMutations(ObjectGraphType mutation)
    {
        ArgumentNullException.ThrowIfNull(mutation);
        mutation.Field<NonNullGraphType<AccountType>>("createAccount")
            .Argument<NonNullGraphType<StringGraphType>>("currency")
            .Argument<StringGraphType>("idempotencyKey")
            .ResolveAsync(async ctx => await ctx.RunAsync(ctx.Operation<CreateAccount>(), new CreateAccountRequest(ctx.GetArgument<string>("currency"))));

        mutation.Field<NonNullGraphType<TransactionGraphType>>("transfer")
            .Description("Moves money between accounts; retries with the same key return the first result.")
            .Argument<NonNullGraphType<TransferInputType>>("input")
            .Argument<NonNullGraphType<StringGraphType>>("idempotencyKey")
            .ResolveAsync(async ctx =>
            {
                var input = ctx.GetArgument<TransferInput>("input");
                return await ctx.RunAsync(ctx.Operation<Transfer>(), new TransferRequest(
                    GraphQLOperations.ParseId(input.FromAccountId, "fromAccountId"),
                    GraphQLOperations.ParseId(input.ToAccountId, "toAccountId"),
                    input.Amount, input.Description));
            });

        mutation.Field<NonNullGraphType<TransactionGraphType>>("deposit")
            .Description("Admins credit an account from the outside world.")
            .Argument<NonNullGraphType<IdGraphType>>("accountId")
            .Argument<NonNullGraphType<LongGraphType>>("amount")
            .Argument<StringGraphType>("description")
            .Argument<NonNullGraphType<StringGraphType>>("idempotencyKey")
            .ResolveAsync(async ctx => await ctx.RunAsync(ctx.Operation<Deposit>(), new DepositRequest(
                ctx.GetId("accountId"), ctx.GetArgument<long>("amount"), ctx.GetArgument<string?>("description"))));
    }
}

public sealed class AccountType : ObjectGraphType<AccountDto>
{
    public AccountType()
    {
        Name = "Account";
        Field<NonNullGraphType<IdGraphType>>("id").Resolve(ctx => ctx.Source.Id);
        Field<IdGraphType>("ownerId").Resolve(ctx => ctx.Source.OwnerId);
        Field<NonNullGraphType<StringGraphType>>("currency").Resolve(ctx => ctx.Source.Currency);
        Field<NonNullGraphType<LongGraphType>>("balance").Description("Minor units (cents).").Resolve(ctx => ctx.Source.Balance);
        Field<NonNullGraphType<UtcDateTimeGraphType>>("createdAt").Resolve(ctx => ctx.Source.CreatedAt);
    }
}

public sealed class AccountConnectionType() : PageConnectionType<AccountType, AccountDto>("AccountConnection");

public sealed class TransactionTypeEnum : EnumerationGraphType<Ledger.TransactionType>
{
    public TransactionTypeEnum() => Name = "TransactionType";
}

public sealed class TransactionGraphType : ObjectGraphType<TransactionDto>
{
    public TransactionGraphType()
    {
        Name = "Transaction";
        Field<NonNullGraphType<IdGraphType>>("id").Resolve(ctx => ctx.Source.Id);
        Field<NonNullGraphType<TransactionTypeEnum>>("type").Resolve(ctx => ctx.Source.Type);
        Field<NonNullGraphType<LongGraphType>>("amount").Description("Minor units (cents).").Resolve(ctx => ctx.Source.Amount);
        Field<NonNullGraphType<StringGraphType>>("currency").Resolve(ctx => ctx.Source.Currency);
        Field<NonNullGraphType<IdGraphType>>("fromAccountId").Resolve(ctx => ctx.Source.FromAccountId);
        Field<NonNullGraphType<IdGraphType>>("toAccountId").Resolve(ctx => ctx.Source.ToAccountId);
        Field<IdGraphType>("orderId").Resolve(ctx => ctx.Source.OrderId);
        Field<StringGraphType>("description").Resolve(ctx => ctx.Source.Description);
        Field<NonNullGraphType<UtcDateTimeGraphType>>("createdAt").Resolve(ctx => ctx.Source.CreatedAt);
    }
}

public sealed class TransactionConnectionType() : CursorConnectionType<TransactionGraphType, TransactionDto>("TransactionConnection");

public sealed class TransferInput
{
    public string? FromAccountId { get; set; }
    public string? ToAccountId { get; set; }
    public long Amount { get; set; }
    public string? Description { get; set; }
}

public sealed class TransferInputType : InputObjectGraphType<TransferInput>
{
    public TransferInputType()
    {
        Name = "TransferInput";
        Field<NonNullGraphType<IdGraphType>>("fromAccountId");
        Field<NonNullGraphType<IdGraphType>>("toAccountId");
        Field<NonNullGraphType<LongGraphType>>("amount").Description("Minor units (cents), positive.");
        Field<StringGraphType>("description");
    }
}

/// <summary>The <c>data</c> of <c>account.credited</c> / <c>account.debited</c> events.</summary>
public sealed record AccountMovement(Guid AccountId, Guid? OwnerId, long Amount, string Currency, Guid TransactionId, Ledger.TransactionType Type);

public sealed record AccountActivity(string Direction, DateTime OccurredAt, AccountMovement Movement);

public sealed class AccountActivityType : ObjectGraphType<AccountActivity>
{
    public AccountActivityType()
    {
        Name = "AccountActivity";
        Field<NonNullGraphType<IdGraphType>>("accountId").Resolve(ctx => ctx.Source.Movement.AccountId);
        Field<NonNullGraphType<StringGraphType>>("direction").Description("CREDIT (money in) or DEBIT (money out).").Resolve(ctx => ctx.Source.Direction);
        Field<NonNullGraphType<LongGraphType>>("amount").Description("Minor units (cents).").Resolve(ctx => ctx.Source.Movement.Amount);
        Field<NonNullGraphType<StringGraphType>>("currency").Resolve(ctx => ctx.Source.Movement.Currency);
        Field<NonNullGraphType<IdGraphType>>("transactionId").Resolve(ctx => ctx.Source.Movement.TransactionId);
        Field<NonNullGraphType<TransactionTypeEnum>>("transactionType").Resolve(ctx => ctx.Source.Movement.Type);
        Field<NonNullGraphType<UtcDateTimeGraphType>>("occurredAt").Resolve(ctx => ctx.Source.OccurredAt);
    }
}
