namespace Groundwork.Platform.Http;

public static class EndpointMetadata
{
    /// <summary>Documents the error envelope for the given statuses (plus 429 and 500, which any route can answer).</summary>
    public static RouteHandlerBuilder ProducesErrors(this RouteHandlerBuilder builder, params int[] statuses)
    {
        ArgumentNullException.ThrowIfNull(builder);
        foreach (var status in statuses.Append(StatusCodes.Status429TooManyRequests).Append(StatusCodes.Status500InternalServerError).Distinct())
        {
            builder.Produces<ErrorEnvelope>(status, "application/json");
        }

        return builder;
    }
}
