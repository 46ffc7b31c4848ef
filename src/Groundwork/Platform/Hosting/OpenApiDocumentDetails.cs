using Microsoft.AspNetCore.OpenApi;
using Microsoft.OpenApi;

namespace Groundwork.Platform.Hosting;

/// <summary>
/// Details of the OpenAPI document that no endpoint declares: what each tag groups (the reference at /docs shows it
/// above the operations), and server URLs without a trailing slash.
/// </summary>
internal sealed class OpenApiDocumentDetails : IOpenApiDocumentTransformer
{
    private static readonly Dictionary<string, string> Descriptions = new(StringComparer.Ordinal)
    {
        ["Auth"] = "Sign up, sign in, refresh and sign out; your sessions and password.",
        ["Users"] = "User accounts: read yourself, admins manage everyone.",
        ["Posts"] = "Posts with drafts, publishing, search and view counts.",
        ["Orders"] = "Orders placed by users, paid from their accounts, cancelled with refunds.",
        ["Accounts"] = "Money accounts with balances in minor units, deposits and their ledger history.",
        ["Transfers"] = "Money moved between accounts, exactly once per Idempotency-Key, recorded in a double-entry ledger.",
        ["API keys"] = "Long-lived credentials with scopes, for machines.",
        ["Admin"] = "Operations for administrators: ledger checks.",
        ["Audit"] = "The security audit log: sign-ins, failed sign-ins and refused access (admins).",
        ["Events"] = "Domain events as a Server-Sent Events stream, and the events consumers gave up on.",
        ["Webhooks"] = "Signed HTTP callbacks for domain events, with retries and a delivery log (admins).",
        ["GraphQL"] = "The same operations as GraphQL over HTTP; subscriptions over WebSocket at the same path.",
        ["Discovery"] = "Public keys and the discovery document, so other services can verify our tokens.",
    };

    public Task TransformAsync(OpenApiDocument document, OpenApiDocumentTransformerContext context, CancellationToken cancellationToken)
    {
        var used = (document.Paths ?? [])
            .SelectMany(path => path.Value.Operations ?? [])
            .SelectMany(operation => operation.Value.Tags ?? new HashSet<OpenApiTagReference>())
            .Select(tag => tag.Name)
            .OfType<string>()
            .ToHashSet(StringComparer.Ordinal);
        document.Tags = new HashSet<OpenApiTag>(used.Order(StringComparer.Ordinal).Select(name => new OpenApiTag
        {
            Name = name,
            Description = Descriptions.TryGetValue(name, out var description) ? description : null,
        }));

        foreach (var server in document.Servers ?? [])
        {
            server.Url = server.Url?.TrimEnd('/');
        }

        return Task.CompletedTask;
    }
}
