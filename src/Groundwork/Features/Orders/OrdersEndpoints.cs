using Groundwork.Platform.Http;
using Groundwork.Platform.Operations;
using Microsoft.AspNetCore.Mvc;

namespace Groundwork.Features.Orders;

public static class OrdersEndpoints
{
    public static void MapOrders(this RouteGroupBuilder api)
    {
        var userOrders = api.MapGroup("/users/{userId:guid}/orders").WithTags("Orders").RequireAuthorization();
        var orders = api.MapGroup("/orders").WithTags("Orders").RequireAuthorization();

        userOrders.MapGet("/", (HttpContext http, [FromServices] ListOrders op, Guid userId) =>
            {
                var query = new QueryReader(http, "status");
                var request = new ListOrdersRequest(userId, query.Page(), query.Parse<OrderStatus>("status", WireEnums.TryParse, string.Join(", ", WireEnums.NamesOf(typeof(OrderStatus)))));
                return Rest.RunAsync(http, query, op, request, page => Rest.Page(http, page));
            })
            .WithName("ListOrders").WithSummary("List a user's orders").Produces<PageEnvelope<OrderDto>>().ProducesErrors(400, 401, 403, 404);

        userOrders.MapPost("/", (HttpContext http, [FromServices] CreateOrder op, Guid userId, CreateOrderBody body) =>
                Rest.RunAsync(http, op, new CreateOrderRequest(userId, body.Currency, body.Items), order => Rest.Created(http, $"/api/v1/orders/{order.Id}", order)))
            .WithName("CreateOrder").WithSummary("Place an order").Produces<CreatedEnvelope<OrderDto>>(StatusCodes.Status201Created).ProducesErrors(400, 401, 403, 404, 409, 413, 415, 422);

        orders.MapGet("/{id:guid}", (HttpContext http, [FromServices] GetOrder op, Guid id) => Rest.RunAsync(http, op, new GetOrderRequest(id), Rest.Data))
            .WithName("GetOrder").WithSummary("Get an order").Produces<DataEnvelope<OrderDto>>().ProducesErrors(401, 403, 404);

        orders.MapPost("/{id:guid}/pay", (HttpContext http, [FromServices] PayOrder op, Guid id, PayOrderBody body) =>
                Rest.RunAsync(http, op, new PayOrderRequest(id, body.AccountId), Rest.Data))
            .WithName("PayOrder").WithSummary("Pay an order from an account").Produces<DataEnvelope<OrderDto>>().ProducesErrors(400, 401, 403, 404, 409, 413, 415, 422);

        orders.MapPost("/{id:guid}/cancel", (HttpContext http, [FromServices] CancelOrder op, Guid id) =>
                Rest.RunAsync(http, op, new CancelOrderRequest(id), Rest.Data))
            .WithName("CancelOrder").WithSummary("Cancel an order (refunded if paid)").Produces<DataEnvelope<OrderDto>>().ProducesErrors(401, 403, 404, 409, 422);
    }

    /// <summary>Only currency and items: a client-sent total or status is refused as an unknown property.</summary>
    public sealed record CreateOrderBody(string? Currency, IReadOnlyList<CreateOrderItem>? Items);

    public sealed record PayOrderBody(Guid AccountId);
}
