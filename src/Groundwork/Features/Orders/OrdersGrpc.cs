using Grpc.Core;
using Groundwork.Api.V1;
using Groundwork.Platform.GrpcServer;
using OrderMessage = Groundwork.Api.V1.Order;
using OrderStatusMessage = Groundwork.Api.V1.OrderStatus;

namespace Groundwork.Features.Orders;

/// <summary>gRPC adapter for orders (api/protos/groundwork/v1/orders.proto): translation only.</summary>
public sealed class OrdersGrpc : OrderService.OrderServiceBase
{
    public override async Task<OrderMessage> GetOrder(Api.V1.GetOrderRequest request, ServerCallContext context) =>
        ToMessage(await context.RunAsync(context.Operation<GetOrder>(), new GetOrderRequest(GrpcOperations.ParseId(request.Id, "id"))));

    public override async Task<ListOrdersResponse> ListOrders(Api.V1.ListOrdersRequest request, ServerCallContext context)
    {
        var page = await context.RunAsync(context.Operation<ListOrders>(), new ListOrdersRequest(
            GrpcOperations.ParseOptionalId(request.UserId, "userId"), GrpcPaging.ToPageRequest(request.Page), FromMessage(request.Status)));
        return new ListOrdersResponse { Orders = { page.Items.Select(ToMessage) }, PageInfo = GrpcPaging.ToPageInfo(page) };
    }

    public override async Task<OrderMessage> CreateOrder(Api.V1.CreateOrderRequest request, ServerCallContext context) =>
        ToMessage(await context.RunAsync(context.Operation<CreateOrder>(), new CreateOrderRequest(
            null,
            request.Currency,
            request.Items.Select(i => new CreateOrderItem(i.Sku, i.Name, i.Quantity, i.UnitPrice)).ToList())));

    public override async Task<OrderMessage> PayOrder(Api.V1.PayOrderRequest request, ServerCallContext context) =>
        ToMessage(await context.RunAsync(context.Operation<PayOrder>(), new PayOrderRequest(
            GrpcOperations.ParseId(request.Id, "id"), GrpcOperations.ParseId(request.AccountId, "accountId"))));

    public override async Task<OrderMessage> CancelOrder(Api.V1.CancelOrderRequest request, ServerCallContext context) =>
        ToMessage(await context.RunAsync(context.Operation<CancelOrder>(), new CancelOrderRequest(GrpcOperations.ParseId(request.Id, "id"))));

    private static OrderMessage ToMessage(OrderDto order) => new()
    {
        Id = order.Id.ToString(),
        UserId = order.UserId.ToString(),
        Status = order.Status switch
        {
            OrderStatus.Pending => OrderStatusMessage.Pending,
            OrderStatus.Paid => OrderStatusMessage.Paid,
            OrderStatus.Cancelled => OrderStatusMessage.Cancelled,
            _ => OrderStatusMessage.Refunded,
        },
        Currency = order.Currency,
        Items = { order.Items.Select(i => new Api.V1.OrderItem { Sku = i.Sku, Name = i.Name, Quantity = i.Quantity, UnitPrice = i.UnitPrice }) },
        Total = order.Total,
        CreatedAt = GrpcOperations.Time(order.CreatedAt),
        UpdatedAt = GrpcOperations.Time(order.UpdatedAt),
        PaidAt = GrpcOperations.Time(order.PaidAt),
    };

    /// <summary>UNSPECIFIED is no filter; a number the enum does not define is refused, not read as no filter.</summary>
    private static OrderStatus? FromMessage(OrderStatusMessage status) => status switch
    {
        OrderStatusMessage.Unspecified => null,
        OrderStatusMessage.Pending => OrderStatus.Pending,
        OrderStatusMessage.Paid => OrderStatus.Paid,
        OrderStatusMessage.Cancelled => OrderStatus.Cancelled,
        OrderStatusMessage.Refunded => OrderStatus.Refunded,
        _ => throw GrpcOperations.ToRpcException(Platform.Operations.Error.Validation("status", "Must be one of the ORDER_STATUS_ values"), requestId: null),
    };
}
