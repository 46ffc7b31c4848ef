namespace Groundwork.Platform.Operations;

/// <summary>
/// Thrown by a bounded resource of this node that is full (the password hashing queue): the pipeline answers the
/// operation with <see cref="Error.Busy"/> (503 with a retry delay, on every transport) and rolls back whatever it
/// had begun. Not a fault: nothing is logged as an error.
/// </summary>
public sealed class NodeBusyException(string message, int retryAfterSeconds) : Exception(message)
{
    public int RetryAfterSeconds { get; } = retryAfterSeconds;
}
