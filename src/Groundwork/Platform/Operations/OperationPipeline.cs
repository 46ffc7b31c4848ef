using FluentValidation;

namespace Groundwork.Platform.Operations;

/// <summary>
/// The one path every transport takes into the application: authorize, validate, handle. Keeping this in one
/// place is what makes REST, GraphQL and gRPC agree on every decision.
/// </summary>
public sealed class OperationPipeline(IServiceProvider services)
{
    public async Task<Result<TResponse>> RunAsync<TRequest, TResponse>(
        IOperation<TRequest, TResponse> operation,
        TRequest request,
        Caller caller,
        CancellationToken cancellationToken)
    {
        if (operation.Policy.Check(caller) is { } denied)
        {
            return denied;
        }

        if (services.GetService(typeof(IValidator<TRequest>)) is IValidator<TRequest> validator)
        {
            var validation = await validator.ValidateAsync(request, cancellationToken);
            if (!validation.IsValid)
            {
                return Error.Validation(validation.Errors
                    .Select(e => new FieldError(JsonFieldName(e.PropertyName), e.ErrorMessage))
                    .ToList());
            }
        }

        return await operation.HandleAsync(request, caller, cancellationToken);
    }

    /// <summary>FluentValidation names properties in PascalCase; the wire is camelCase.</summary>
    private static string JsonFieldName(string propertyName) =>
        string.Join('.', propertyName.Split('.').Select(p => p.Length == 0 ? p : char.ToLowerInvariant(p[0]) + p[1..]));
}
