namespace Groundwork.Platform.Operations;

/// <summary>
/// One use case. Transports never call <see cref="HandleAsync"/> directly: they go through
/// <see cref="OperationPipeline"/>, which enforces <see cref="Policy"/> and the request's validator first.
/// </summary>
public interface IOperation<in TRequest, TResponse>
{
    Policy Policy { get; }

    Task<Result<TResponse>> HandleAsync(TRequest request, Caller caller, CancellationToken cancellationToken);
}
