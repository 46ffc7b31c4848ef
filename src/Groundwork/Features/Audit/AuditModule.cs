using Groundwork.Platform.Hosting;
using Groundwork.Platform.Http;
using Groundwork.Platform.Messaging;
using Microsoft.AspNetCore.Mvc;

namespace Groundwork.Features.Audit;

/// <summary>The security audit log: written by a durable consumer of the auth.* events, read by admins.</summary>
public sealed class AuditModule : IFeatureModule
{
    public void AddServices(IServiceCollection services)
    {
        services.AddScoped<IEventConsumer, AuditLogWriter>();
        services.AddScoped<IRetentionPolicy, AuditRetention>();
    }

    public void MapEndpoints(IEndpointRouteBuilder app, RouteGroupBuilder api) =>
        api.MapGet("/admin/audit", (HttpContext http, [FromServices] ListAuditLog op) =>
            {
                var query = QueryReader.ForCursor(http, "cursor", "type");
                return Rest.RunAsync(http, query, op, new ListAuditLogRequest(query.Int("limit") ?? 20, query.String("cursor"), query.String("type")),
                    page => Rest.CursorPage(http, page));
            })
            .RequireAuthorization().WithTags("Audit")
            .WithName("ListAuditLog").WithSummary("The security audit log: sign-ins, refused sign-ins, authorization failures (admins)")
            .Produces<CursorEnvelope<AuditEntryDto>>().ProducesErrors(400, 401, 403);
}
