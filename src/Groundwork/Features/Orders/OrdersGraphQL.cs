using GraphQL;
using GraphQL.Types;
using Groundwork.Platform.GraphQLServer;
using Groundwork.Platform.Operations;

namespace Groundwork.Features.Orders;

/// <summary>GraphQL adapter for orders.</summary>
public static class OrdersGraphQL
{
    public static void AddQueries(ObjectGraphType query)
    {
        ArgumentNullException.ThrowIfNull(query);
        query.Field<OrderType>("order")
            .Argument<NonNullGraphType<IdGraphType>>("id")
            .ResolveAsync(async ctx => await ctx.RunAsync(ctx.Operation<GetOrder>(), new GetOrderRequest(ctx.GetId())));

        query.Field<NonNullGraphType<OrderConnectionType>>("orders")
            .Description("A user's orders (default: the caller's), newest first.")
            .Argument<IdGraphType>("userId")
            .PageArgument()
            .SizeArgument("limit")
            .Argument<OrderStatusType>("status")
            .ResolveAsync(async ctx => await ctx.RunAsync(ctx.Operation<ListOrders>(), new ListOrdersRequest(
                ctx.GetOptionalId("userId"), ctx.PageRequest(), ctx.GetArgument<OrderStatus?>("status"))));
    }

    public static readonly IReadOnlyList<string> OrderEventTypes = ["order.created", "order.paid", "order.cancelled", "order.refunded"];

    public static void AddSubscriptions(ObjectGraphType subscription)
    {
        ArgumentNullException.ThrowIfNull(subscription);
        subscription.Field<NonNullGraphType<OrderType>>("orderUpdated")
            .Description("The user's orders as each change leaves them (created, paid, cancelled, refunded). `userId` defaults to the caller; only admins may follow someone else.")
            .Argument<IdGraphType>("userId")
            .ResolveStreamAsync(async ctx =>
            {
                // Whose orders: the argument or the caller; whether the caller may follow them is the operation's call.
                var userId = ctx.GetOptionalId("userId") ?? ctx.Caller().UserId;
                return await Events.EventSubscriptions.OpenAsync(ctx, OrderEventTypes, Events.EventSubscriptions.Data<OrderDto>, userId);
            })
            .Resolve(ctx => ctx.Source);
    }

    public static void AddMutations(ObjectGraphType mutation)
    {
        ArgumentNullException.ThrowIfNull(mutation);
        mutation.Field<NonNullGraphType<OrderType>>("createOrder")
            .Argument<NonNullGraphType<CreateOrderInputType>>("input")
            .Argument<StringGraphType>("idempotencyKey")
            .ResolveAsync(async ctx =>
            {
                var input = ctx.GetArgument<CreateOrderInput>("input");
                var request = new CreateOrderRequest(
                    null, input.Currency,
                    input.Items?.Select(i => new CreateOrderItem(i.Sku, i.Name, i.Quantity, i.UnitPrice)).ToList());
                return await ctx.RunAsync(ctx.Operation<CreateOrder>(), request);
            });

        mutation.Field<NonNullGraphType<OrderType>>("payOrder")
            .Description("Pays a pending order from one of the caller's accounts; the key makes retries safe.")
            .Argument<NonNullGraphType<IdGraphType>>("id")
            .Argument<NonNullGraphType<IdGraphType>>("accountId")
            .Argument<NonNullGraphType<StringGraphType>>("idempotencyKey")
            .ResolveAsync(async ctx => await ctx.RunAsync(ctx.Operation<PayOrder>(),
                new PayOrderRequest(ctx.GetId(), ctx.GetId("accountId"))));

        mutation.Field<NonNullGraphType<OrderType>>("cancelOrder")
            .Argument<NonNullGraphType<IdGraphType>>("id")
            .Argument<StringGraphType>("idempotencyKey")
            .ResolveAsync(async ctx => await ctx.RunAsync(ctx.Operation<CancelOrder>(), new CancelOrderRequest(ctx.GetId())));
    }
}

public sealed class OrderStatusType : EnumerationGraphType<OrderStatus>
{
    public OrderStatusType() => Name = "OrderStatus";
}

public sealed class OrderItemType : ObjectGraphType<OrderItemDto>
{
    public OrderItemType()
    {
        Name = "OrderItem";
        Field<NonNullGraphType<StringGraphType>>("sku").Resolve(ctx => ctx.Source.Sku);
        Field<NonNullGraphType<StringGraphType>>("name").Resolve(ctx => ctx.Source.Name);
        Field<NonNullGraphType<IntGraphType>>("quantity").Resolve(ctx => ctx.Source.Quantity);
        Field<NonNullGraphType<LongGraphType>>("unitPrice").Description("Minor units (cents).").Resolve(ctx => ctx.Source.UnitPrice);
    }
}

public sealed class OrderType : ObjectGraphType<OrderDto>
{
    public OrderType()
    {
        Name = "Order";
        Field<NonNullGraphType<IdGraphType>>("id").Resolve(ctx => ctx.Source.Id);
        Field<NonNullGraphType<IdGraphType>>("userId").Resolve(ctx => ctx.Source.UserId);
        Field<NonNullGraphType<OrderStatusType>>("status").Resolve(ctx => ctx.Source.Status);
        Field<NonNullGraphType<StringGraphType>>("currency").Resolve(ctx => ctx.Source.Currency);
        Field<NonNullGraphType<ListGraphType<NonNullGraphType<OrderItemType>>>>("items").ListOfAtMost(CreateOrderValidator.MaxItems).Resolve(ctx => ctx.Source.Items);
        Field<NonNullGraphType<LongGraphType>>("total").Description("Minor units (cents), computed by the server.").Resolve(ctx => ctx.Source.Total);
        Field<NonNullGraphType<UtcDateTimeGraphType>>("createdAt").Resolve(ctx => ctx.Source.CreatedAt);
        Field<NonNullGraphType<UtcDateTimeGraphType>>("updatedAt").Resolve(ctx => ctx.Source.UpdatedAt);
        Field<UtcDateTimeGraphType>("paidAt").Resolve(ctx => ctx.Source.PaidAt);
    }
}

public sealed class OrderConnectionType() : PageConnectionType<OrderType, OrderDto>("OrderConnection");

public sealed class CreateOrderItemInput
{
    public string? Sku { get; set; }
    public string? Name { get; set; }
    public int Quantity { get; set; }
    public long UnitPrice { get; set; }
}

public sealed class CreateOrderInput
{
    public string? Currency { get; set; }
    public List<CreateOrderItemInput>? Items { get; set; }
}

public sealed class CreateOrderItemInputType : InputObjectGraphType<CreateOrderItemInput>
{
    public CreateOrderItemInputType()
    {
        Name = "CreateOrderItemInput";
        Field<NonNullGraphType<StringGraphType>>("sku");
        Field<NonNullGraphType<StringGraphType>>("name");
        Field<NonNullGraphType<IntGraphType>>("quantity");
        Field<NonNullGraphType<LongGraphType>>("unitPrice");
    }
}

public sealed class CreateOrderInputType : InputObjectGraphType<CreateOrderInput>
{
    public CreateOrderInputType()
    {
        Name = "CreateOrderInput";
        Field<NonNullGraphType<StringGraphType>>("currency");
        Field<NonNullGraphType<ListGraphType<NonNullGraphType<CreateOrderItemInputType>>>>("items");
    }
}
