using System.Diagnostics.CodeAnalysis;

namespace Groundwork.Platform.Operations;

/// <summary>What an operation returns: a value or an <see cref="Operations.Error"/>, never both.</summary>
public readonly struct Result<T>
{
    private readonly T? _value;

    private Result(T? value, Error? error)
    {
        _value = value;
        Error = error;
    }

    public Error? Error { get; }

    [MemberNotNullWhen(false, nameof(Error))]
    public bool IsSuccess => Error is null;

    public T Value => IsSuccess ? _value! : throw new InvalidOperationException($"Result is an error: {Error.Code}");

    public static Result<T> Success(T value) => new(value, null);

    public static Result<T> Failure(Error error) => new(default, error);

#pragma warning disable CA2225 // Implicit conversions are the point: handlers return values or errors directly.
    public static implicit operator Result<T>(T value) => Success(value);

    public static implicit operator Result<T>(Error error) => Failure(error);
#pragma warning restore CA2225
}

/// <summary>The value of an operation that returns nothing on success.</summary>
public readonly record struct Unit
{
    public static readonly Unit Value;
}
